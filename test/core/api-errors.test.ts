// The local API's refusals: each error code answers one HTTP status, picked in
// one place, with the words of the part that refused. The API runs on a real
// store with the real registration and task functions; requests go through
// app.request, the same fetch handler the host serves.
import fs from 'node:fs';
import type { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ensureHome, homePaths, type HomePaths } from '../../src/core/config/home.js';
import { ensureMainGroup } from '../../src/core/groups/registration.js';
import { openStore, storeProblem } from '../../src/host.js';
import type { Store } from '../../src/core/store/index.js';
import { groupsApi } from '../../src/plugins/groups/api.js';
import { tasksApi } from '../../src/plugins/scheduler/api.js';
import { pairingApi } from '../../src/plugins/pairing/api.js';
import { createApi } from '../../src/core/api/app.js';
import { statusFor, type ApiErrorCode } from '../../src/core/api/errors.js';
import type { ErrorResponse, MessagesResponse } from '../../src/core/api/types.js';
import type { TaskResponse } from '../../src/plugins/scheduler/api.js';
import { makeHome } from '../support/harness.js';

const TOKEN = 'test-token-0123456789';
let dir: string;
let paths: HomePaths;
let store: Store;
let app: Hono;

beforeEach(() => {
  dir = makeHome('nanoclaw-api-errors-');
  paths = homePaths(dir);
  ensureHome(paths, 'Andy');
  store = openStore(paths.db);
  ensureMainGroup({ store, paths, assistantName: 'Andy' });
  const pairing = store.pairing;
  app = createApi({
    token: TOKEN,
    store,
    injectLocal: (m) => {
      const id = `local-${store.messages.lastSeq(m.chatJid) + 1}`;
      store.messages.insert(
        { id, ...m, timestamp: new Date().toISOString(), fromMe: true, fromAssistant: false },
        'local',
      );
      return { id };
    },
    storeProblem: (err) => storeProblem(err, paths.db),
    subscribe: () => () => {},
    status: () => {
      throw new Error('status is not asked for here');
    },
    // The plugins' routes on the same app, as the host adds them.
    extend: (a) => {
      a.route('/', groupsApi({ store, paths, assistantName: 'Andy', checkSettings: () => null }));
      a.route('/', tasksApi({ store, timezone: 'UTC', onChange: () => {} }));
      a.route(
        '/',
        pairingApi({
          pendingPairings: () => pairing.pending(),
          approvePairing: (code) => ({ ok: false, error: `No pending pairing has the code ${code}.` }),
        }),
      );
    },
  });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = (method: string, path: string, json?: unknown, token = TOKEN) =>
  app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
const errorOf = async (res: Response) => ((await res.json()) as ErrorResponse).error;

test('each error code has its status', () => {
  const expected: Record<ApiErrorCode, number> = {
    invalid: 400,
    unauthorized: 401,
    not_found: 404,
    conflict: 409,
    too_large: 413,
    storage: 503,
    internal: 500,
  };
  for (const [code, status] of Object.entries(expected)) expect(statusFor(code as ApiErrorCode), code).toBe(status);
});

describe('POST /api/groups', () => {
  test('a folder another group uses is a conflict: 409 with what to do', async () => {
    expect((await call('POST', '/api/groups', { jid: 'local:family', name: 'Family', folder: 'family' })).status).toBe(
      201,
    );
    const res = await call('POST', '/api/groups', { jid: 'local:other', name: 'Other', folder: 'family' });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toBe('Folder "family" is already used by another group.');
    expect(store.groups.get('local:other')).toBeUndefined();
  });

  test('a chat registered twice is a conflict: 409', async () => {
    const res = await call('POST', '/api/groups', { jid: 'local:main', name: 'Again', folder: 'again' });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toBe('local:main is already registered.');
  });

  test('a bad folder is invalid input (400), even when its name reads like a conflict', async () => {
    const res = await call('POST', '/api/groups', { jid: 'local:x', name: 'X', folder: 'already!' });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatch(/^Folder name "already!" is not allowed/);
  });

  test('a body that is not JSON is invalid: 400', async () => {
    const res = await app.request('/api/groups', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe('Body must be JSON.');
  });
});

test('DELETE /api/groups/:jid: an unknown chat is 404, the main group is refused with 400', async () => {
  const unknown = await call('DELETE', `/api/groups/${encodeURIComponent('local:nobody')}`);
  expect(unknown.status).toBe(404);
  expect(await errorOf(unknown)).toBe('local:nobody is not registered.');
  const main = await call('DELETE', `/api/groups/${encodeURIComponent('local:main')}`);
  expect(main.status).toBe(400);
  expect(await errorOf(main)).toBe('The main group cannot be unregistered.');
  expect(store.groups.get('local:main')).toBeDefined();
});

test('a message the store cannot take answers 503 with what to do, and nothing is stored', async () => {
  store.db.pragma('query_only = ON'); // the store refuses writes, as a read-only file does
  const res = await call('POST', `/api/chats/${encodeURIComponent('local:main')}/messages`, { text: 'hello' });
  expect(res.status).toBe(503);
  expect(await errorOf(res)).toMatch(/is read-only .*Nothing was accepted or changed; make it writable/);
  store.db.pragma('query_only = OFF');
  const history = (await (
    await call('GET', `/api/chats/${encodeURIComponent('local:main')}/messages`)
  ).json()) as MessagesResponse;
  expect(history.messages).toEqual([]);
});

test('a wrong token is 401, an unknown task 404, resuming a task whose group is gone 409', async () => {
  const refused = await call('GET', '/api/groups', undefined, 'wrong');
  expect(refused.status).toBe(401);
  expect(await errorOf(refused)).toMatch(/^Missing or wrong API token/);

  const none = await call('POST', '/api/tasks/task-nope/pause');
  expect(none.status).toBe(404);
  expect(await errorOf(none)).toBe('No task "task-nope"; GET /api/tasks lists them.');

  expect((await call('POST', '/api/groups', { jid: 'local:family', name: 'Family', folder: 'family' })).status).toBe(
    201,
  );
  const created = await call('POST', '/api/tasks', {
    group_folder: 'family',
    prompt: 'water the plants',
    schedule_type: 'interval',
    schedule_value: '3600000',
  });
  expect(created.status).toBe(201);
  const { task } = (await created.json()) as TaskResponse;
  expect((await call('POST', `/api/tasks/${task.id}/pause`)).status).toBe(200);
  expect((await call('DELETE', `/api/groups/${encodeURIComponent('local:family')}`)).status).toBe(200);
  const resumed = await call('POST', `/api/tasks/${task.id}/resume`);
  expect(resumed.status).toBe(409);
  expect(await errorOf(resumed)).toMatch(/which is no longer registered; register that chat again first/);
});

test('an unexpected failure is 500 and points to the log', async () => {
  const res = await call('GET', '/api/status');
  expect(res.status).toBe(500);
  expect(await errorOf(res)).toBe('Internal error: status is not asked for here. See logs/nanoclaw.log.');
});

test('POST /api/pairing/:code/approve: a code nobody waits with is 404, a malformed one 400', async () => {
  const res = await call('POST', '/api/pairing/ABC234/approve');
  expect(res.status).toBe(404);
  expect(await errorOf(res)).toBe('No pending pairing has the code ABC234.');
  expect((await call('POST', '/api/pairing/abc/approve')).status).toBe(400);
});
