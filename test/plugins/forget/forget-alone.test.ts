// Disabling a plugin removes its feature and nothing else: forgetting works on an install whose plugin list
// has no scheduler, approvals or health (their tables do not exist), and finds what there is.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { ensureHome, homePaths } from '../../../src/core/config/home.js';
import { ensureMainGroup } from '../../../src/core/groups/registration.js';
import { openStore } from '../../../src/core/store/index.js';
import { forget } from '../../../src/plugins/forget/index.js';
import { createForgetEngine } from '../../../src/plugins/forget/engine.js';
import { makeHome } from '../../support/harness.js';

test('forget with only the core and the forget plugin: a phrase is found and forgotten, no other plugin needed', async () => {
  const home = makeHome('nanoclaw-forget-alone-');
  const paths = homePaths(home);
  ensureHome(paths, 'Andy');
  const store = openStore(paths.db, { parts: [forget] });
  ensureMainGroup({ store, paths, assistantName: 'Andy' });
  store.messages.insert(
    {
      id: 'm1',
      chatJid: 'local:main',
      sender: 'owner',
      senderName: 'You',
      text: 'the surprise party is on friday',
      timestamp: new Date().toISOString(),
      fromMe: true,
      fromAssistant: false,
    },
    'local',
  );
  const engine = createForgetEngine({ store, paths, resetSession: async () => {} });
  const by = { chatJid: 'local:main', sender: 'owner' };
  const request = {
    folders: ['main'],
    includeGlobal: true,
    includeHost: true,
    phrase: 'surprise party',
    scopeLabel: 'this chat',
  };
  const preview = engine.preview({ ...request, chatJids: ['local:main'] }, by);
  expect(preview.places.map((p) => [p.place, p.count])).toEqual([['messages', 1]]);
  const res = engine.confirm(preview.id, by);
  if (!res.ok) throw new Error(res.error);
  await res.settled;
  expect(store.forget.receipt(res.receipt.id)!.verified).toBe(true);
  expect(fs.readFileSync(path.join(paths.store, 'messages.db')).includes('surprise party')).toBe(false);
  store.close();
});
