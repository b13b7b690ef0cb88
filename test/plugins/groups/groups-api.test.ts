// PATCH /api/groups/:jid on its own: settings merge, null restores a default,
// bad input is refused with the field that is wrong, and extra mounts pass the
// real mount allowlist before anything is saved.
import fs from 'node:fs';
import path from 'node:path';
import { Hono } from 'hono';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { homePaths } from '../../../src/core/config/home.js';
import { errorResponse } from '../../../src/core/api/errors.js';
import { groupsApi } from '../../../src/plugins/groups/api.js';
import { allowlistMountCheck } from '../../../src/plugins/mounts/allowlist.js';
import { openStore } from '../../../src/host.js';
import { type Store } from '../../../src/core/store/index.js';
import { makeHome } from '../../support/harness.js';

let dir: string;
let store: Store;
let app: Hono;
const JID = 'tg:-100123';

beforeEach(() => {
  dir = makeHome('nanoclaw-groups-api-');
  store = openStore(':memory:');
  store.groups.insert({
    jid: JID,
    name: 'Family',
    folder: 'family',
    trigger: '@Andy',
    requiresTrigger: true,
    isMain: false,
    sandbox: { memoryMb: 1024, egress: 'none' },
    addedAt: new Date().toISOString(),
  });
  const paths = homePaths(dir);
  app = new Hono().onError(errorResponse).route(
    '/',
    groupsApi({
      store,
      paths,
      assistantName: 'Andy',
      checkSettings: allowlistMountCheck(path.join(dir, 'config'), path.join(dir, 'home')),
    }),
  );
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const patch = (body: unknown, jid = JID) =>
  app.request(`/api/groups/${encodeURIComponent(jid)}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('settings merge into what is stored; null goes back to the default', async () => {
  const res = await patch({
    trigger: '@Bot',
    sandbox: {
      cpus: 2,
      memoryMb: null,
      egress: 'allowlist',
      egressAllowlist: ['example.com', '*.github.com', 'db.example.com:5432'],
    },
  });
  expect(res.status).toBe(200);
  expect(store.groups.get(JID)).toMatchObject({
    name: 'Family',
    trigger: '@Bot',
    requiresTrigger: true,
    sandbox: { cpus: 2, egress: 'allowlist', egressAllowlist: ['example.com', '*.github.com', 'db.example.com:5432'] },
  });
  expect(store.groups.get(JID)!.sandbox.memoryMb).toBeUndefined();

  expect((await patch({ sandbox: { maxMessagesPerTurn: 3 } })).status).toBe(200);
  expect(store.groups.get(JID)!.sandbox.maxMessagesPerTurn).toBe(3);
  expect((await patch({ sandbox: { maxMessagesPerTurn: null } })).status).toBe(200);
  expect(store.groups.get(JID)!.sandbox.maxMessagesPerTurn).toBeUndefined();
});

test('bad input is refused with what is wrong, and nothing changes', async () => {
  for (const [body, words] of [
    [{ sandbox: { egress: 'everything' } }, 'sandbox.egress'],
    [{ sandbox: { memoryMb: 1 } }, 'sandbox.memoryMb'],
    [{ sandbox: { maxMessagesPerTurn: -1 } }, 'sandbox.maxMessagesPerTurn'],
    [{ sandbox: { maxMessagesPerTurn: 2.5 } }, 'sandbox.maxMessagesPerTurn'],
    [{ sandbox: { egressAllowlist: ['a b c'] } }, 'sandbox.egressAllowlist'],
    [{ isMain: true }, 'isMain'],
    [{ trigger: 'two\nlines' }, 'trigger'],
  ] as const) {
    const res = await patch(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(words);
  }
  expect((await patch({ name: 'x' }, 'tg:404')).status).toBe(404);
  expect(store.groups.get(JID)).toMatchObject({
    name: 'Family',
    isMain: false,
    sandbox: { memoryMb: 1024, egress: 'none' },
  });
});

test('extra mounts must pass the mount allowlist', async () => {
  const projects = path.join(dir, 'projects');
  fs.mkdirSync(projects);
  const mount = { hostPath: projects, containerPath: 'projects', readonly: true };

  const none = await patch({ sandbox: { extraMounts: [mount] } });
  expect(none.status).toBe(400);
  expect(((await none.json()) as { error: string }).error).toMatch(/mount allowlist/);

  fs.mkdirSync(path.join(dir, 'config'));
  fs.writeFileSync(
    path.join(dir, 'config', 'mount-allowlist.json'),
    JSON.stringify({ allowedRoots: [{ path: projects }] }),
  );
  const escape = await patch({ sandbox: { extraMounts: [{ ...mount, containerPath: '../etc' }] } });
  expect(escape.status).toBe(400);
  const rw = await patch({ sandbox: { extraMounts: [{ ...mount, readonly: false }] } });
  expect(rw.status).toBe(400);
  expect(store.groups.get(JID)!.sandbox.extraMounts).toBeUndefined();

  const ok = await patch({ sandbox: { extraMounts: [mount] } });
  expect(ok.status).toBe(200);
  expect(store.groups.get(JID)!.sandbox.extraMounts).toEqual([mount]);
});

test('settings given at registration pass the same checks: nothing is registered with a refused mount or a bad limit', async () => {
  const post = (body: unknown) =>
    app.request('/api/groups', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const projects = path.join(dir, 'projects');
  fs.mkdirSync(projects);
  const base = { jid: 'local:club', name: 'Club', folder: 'club' };

  const mount = await post({ ...base, sandbox: { extraMounts: [{ hostPath: projects, containerPath: 'projects' }] } });
  expect(mount.status).toBe(400);
  expect(((await mount.json()) as { error: string }).error).toMatch(/mount allowlist/);
  const limit = await post({ ...base, sandbox: { memoryMb: 1, egress: 'everything' } });
  expect(limit.status).toBe(400);
  expect(((await limit.json()) as { error: string }).error).toMatch(/memoryMb/);
  expect(store.groups.get('local:club')).toBeUndefined();

  const ok = await post({ ...base, sandbox: { egress: 'none', memoryMb: null } });
  expect(ok.status).toBe(201);
  expect(store.groups.get('local:club')!.sandbox).toEqual({ egress: 'none' });
});
