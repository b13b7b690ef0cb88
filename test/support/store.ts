// A real home and store in a temporary folder, removed after the test: the
// fixture the unit tests share instead of each building its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { ensureHome, homePaths, type HomePaths } from '../../src/core/config/home.js';
import { ensureMainGroup, registerGroup } from '../../src/core/groups/registration.js';
import { openStore } from '../../src/host.js';
import { type Store } from '../../src/core/store/index.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A fresh home with the main chat registered, plus the groups given as `folder` (jid `local:<folder>`). */
export function tempStore(opts: { prefix?: string; groups?: string[] } = {}): {
  home: string;
  paths: HomePaths;
  store: Store;
} {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), opts.prefix ?? 'nanoclaw-test-'));
  const paths = homePaths(home);
  ensureHome(paths, 'Andy');
  const store = openStore(paths.db);
  cleanups.push(() => {
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  });
  ensureMainGroup({ store, paths, assistantName: 'Andy' });
  for (const folder of opts.groups ?? []) {
    const name = folder[0].toUpperCase() + folder.slice(1);
    const res = registerGroup({ store, paths, assistantName: 'Andy' }, { jid: `local:${folder}`, name, folder });
    if (!res.ok) throw new Error(res.error);
  }
  return { home, paths, store };
}
