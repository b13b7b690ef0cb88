// The local HTTP API of a real host: every route the app serves (enumerated
// from the app itself) refuses callers without the token or with a wrong one,
// path tricks do not get around that, and hostile chat ids, folders, settings
// and schedules are refused with words that say why. Nothing changes, and no
// answer ever carries the model credential or the API token.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestEnv, TEST_KEY, type TestEnv } from '../support/harness.js';
import { countCases } from './count.js';
import { storeDigest, tree } from './support.js';

countCases('api');

// Started while the file is collected, so the cases can be one per route of the real app.
let app!: Hono;
const env: TestEnv = await startTestEnv({
  script: () => ({ text: 'ok' }),
  host: {
    extendApi: (a) => {
      app = a;
    },
  },
});
const ROUTES = routes();
let allowedRoot: string;

beforeAll(async () => {
  const reg = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:family', name: 'Family', folder: 'family' },
  });
  expect(reg.status).toBe(201);
  allowedRoot = path.join(env.home, '..', `${path.basename(env.home)}-allowed`);
  fs.mkdirSync(path.join(allowedRoot, 'docs'), { recursive: true });
  fs.mkdirSync(env.config.configDir, { recursive: true });
  fs.writeFileSync(
    path.join(env.config.configDir, 'mount-allowlist.json'),
    JSON.stringify({ allowedRoots: [{ path: allowedRoot }] }),
  );
});
afterAll(async () => {
  await env.close();
  if (allowedRoot) fs.rmSync(allowedRoot, { recursive: true, force: true });
});

/** Every route the app serves, as [method, path with its parameters filled in]. */
function routes(): [string, string][] {
  const fill = (p: string) =>
    p
      .replace(':jid', encodeURIComponent('local:family'))
      .replace(':id', 'task-00000000')
      .replace(':code', 'ABC234')
      .replace(':name', 'whatsapp');
  const seen = new Set<string>();
  const out: [string, string][] = [];
  for (const r of app.routes) {
    if (r.method === 'ALL' || !r.path.startsWith('/api/')) continue;
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([r.method, fill(r.path)]);
  }
  return out;
}

/** A request with nothing added (no token unless the test gives one). */
async function raw(
  method: string,
  p: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(env.host.url + p, { method, headers, body, signal: AbortSignal.timeout(5_000) });
  const text = method === 'GET' && res.headers.get('content-type')?.includes('event-stream') ? '' : await res.text();
  return { status: res.status, text, headers: res.headers };
}

const BAD_AUTH: [string, (token: string) => { headers: Record<string, string>; query?: string }][] = [
  ['no token', () => ({ headers: {} })],
  ['a wrong token of the same length', (t) => ({ headers: { authorization: `Bearer ${'A'.repeat(t.length)}` } })],
  ['the token minus its last character', (t) => ({ headers: { authorization: `Bearer ${t.slice(0, -1)}` } })],
  ['the token with one more character', (t) => ({ headers: { authorization: `Bearer ${t}x` } })],
  [
    'the token under Basic',
    (t) => ({ headers: { authorization: `Basic ${Buffer.from(`nanoclaw:${t}`).toString('base64')}` } }),
  ],
  ['the token in a cookie', (t) => ({ headers: { cookie: `token=${t}; nanoclaw.token=${t}; api-token=${t}` } })],
  ['the token in the query string', (t) => ({ headers: {}, query: `token=${t}&access_token=${t}` })],
  ['the token as x-api-key', (t) => ({ headers: { 'x-api-key': t } })],
];

describe('every API route needs the token', () => {
  test('the app serves the routes this suite enumerates', () => {
    const keys = ROUTES.map(([m, p]) => `${m} ${p}`);
    for (const must of [
      'GET /api/groups',
      'POST /api/groups',
      'DELETE /api/groups/local%3Afamily',
      'PATCH /api/groups/local%3Afamily',
      'POST /api/chats/local%3Afamily/messages',
      'GET /api/events',
      'GET /api/status',
      'GET /api/tasks',
      'POST /api/tasks',
      'POST /api/pairing/ABC234/approve',
      'GET /api/errors',
      'GET /api/usage',
    ]) {
      expect(keys).toContain(must);
    }
  });

  test.each(ROUTES)('%s %s refuses a missing or wrong token, however it is sent', async (method, p) => {
    for (const [what, make] of BAD_AUTH) {
      const digest = storeDigest(env.host.store);
      const { headers, query } = make(env.host.token);
      const body = ['POST', 'PATCH', 'PUT'].includes(method)
        ? JSON.stringify({
            jid: 'local:evil',
            name: 'Evil',
            folder: 'evil',
            text: 'hi',
            group_folder: 'main',
            prompt: 'x',
            schedule_type: 'interval',
            schedule_value: '60000',
          })
        : undefined;
      const r = await raw(
        method,
        query ? `${p}?${query}` : p,
        { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
        body,
      );
      expect(r.status, what).toBe(401);
      expect(JSON.parse(r.text).error, what).toMatch(
        /^Missing or wrong API token: send "Authorization: Bearer <token>"/,
      );
      expect(storeDigest(env.host.store), what).toBe(digest);
      expect(r.text.includes(env.host.token) || r.text.includes(TEST_KEY), what).toBe(false);
    }
    expect(fs.existsSync(path.join(env.home, 'groups', 'evil'))).toBe(false);
  });

  test.each([
    '/API/groups',
    '//api/groups',
    '/api//groups',
    '/api/groups/',
    '/./api/groups',
    '/api/./groups',
    '/healthz/../api/groups',
    '/ui/../api/groups',
    '/%61pi/groups',
    '/api/%67roups',
    '/api%2fgroups',
    '/api/groups%00',
    '/api/groups;x',
    '/healthz?/api/groups',
    '/healthz#/api/groups',
    '/api/groups?token=x',
    '/%2e/api/groups',
    '/api/groups/..',
    '/api/status/..%2f..%2fgroups',
  ])('path trick %s gets no data without the token', async (p) => {
    const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const u = new URL(env.host.url);
      const req = http.request({ host: u.hostname, port: u.port, method: 'GET', path: p, agent: false }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end();
    });
    if (r.status === 200)
      expect(JSON.parse(r.text)).toEqual({ ok: true }); // only /healthz answers without a token
    else expect([400, 401, 404]).toContain(r.status);
    expect(r.text).not.toContain('local:main');
    expect(r.text).not.toContain(env.host.token);
  });

  test('with the token, no GET route answers with the model credential or the token', async () => {
    for (const [method, p] of ROUTES.filter(([m]) => m === 'GET')) {
      const res = await fetch(env.host.url + p, {
        headers: { authorization: `Bearer ${env.host.token}` },
        signal: AbortSignal.timeout(5_000),
      });
      let text: string;
      if (res.headers.get('content-type')?.includes('event-stream')) {
        const reader = res.body!.getReader();
        text = new TextDecoder().decode((await reader.read()).value);
        await reader.cancel();
      } else text = await res.text();
      expect(text.includes(TEST_KEY) || text.includes(env.host.token), `${method} ${p}`).toBe(false);
    }
  });
});

describe('chat ids in URLs', () => {
  test.each([
    'local:../main',
    'local:main/../family',
    'local:MAIN',
    'local:main\u0000',
    'local:',
    'local:a b',
    `local:${'a'.repeat(65)}`,
    'local:main\n',
    '../local:main',
    'local:-x',
    'local:_x',
    'local:fam\u200bily',
    'local:%2e%2e',
    'local:\u202eniam',
    'local:main;rm',
    'tg:123',
    '123@g.us',
    '4477@s.whatsapp.net',
    '',
    ' ',
    'local:main/messages',
  ])('POST a message to %j is refused', async (jid) => {
    const digest = storeDigest(env.host.store);
    const res = await env.api(`/api/chats/${encodeURIComponent(jid)}/messages`, {
      method: 'POST',
      json: { text: 'hi' },
    });
    if (jid === '') expect(res.status).toBe(404);
    else {
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toMatch(
        /^Only local chats \(local:<name>\) take messages through the API/,
      );
    }
    expect(storeDigest(env.host.store)).toBe(digest);
  });

  test.each(['../../etc/passwd', 'local:%', "local:main' OR '1'='1", '*', 'local:main\u0000', '/etc/shadow'])(
    'GET the history of %j reads nothing (no file, no other chat)',
    async (jid) => {
      const res = await env.api(`/api/chats/${encodeURIComponent(jid)}/messages`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ messages: [] });
    },
  );

  test.each([
    ['local:main', 400, /main group cannot be unregistered/],
    ['%', 404, /is not registered/],
    ["local:family' --", 404, /is not registered/],
    ['*', 404, /is not registered/],
    ['local:FAMILY', 404, /is not registered/],
    ['../groups/local:family', 404, /is not registered/],
  ])('DELETE the group %j is refused', async (jid, status, error) => {
    const digest = storeDigest(env.host.store);
    const res = await env.api(`/api/groups/${encodeURIComponent(jid)}`, { method: 'DELETE' });
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).error).toMatch(error);
    expect(storeDigest(env.host.store)).toBe(digest);
  });
});

describe('registration and settings through the API', () => {
  test.each([
    '../escape',
    '..',
    '/abs',
    'a/b',
    'UPPER',
    'main',
    'global',
    'conversations',
    'x\u0000y',
    'fam\u202e',
    '\ud83d\ude00',
    '%2e%2e',
  ])('POST /api/groups with folder %j is refused, nothing created', async (folder) => {
    const digest = storeDigest(env.host.store);
    const files = tree(env.home);
    const res = await env.api('/api/groups', {
      method: 'POST',
      json: { jid: 'local:hostile', name: 'Hostile', folder },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatch(/not allowed|reserved|belongs to the main group/);
    expect(storeDigest(env.host.store)).toBe(digest);
    expect(tree(env.home)).toEqual(files);
  });

  test.each([
    ['isMain', { isMain: true }],
    ['is_main', { is_main: true }],
    ['a __proto__ isMain', JSON.parse('{"__proto__": {"isMain": true}}')],
  ])('POST /api/groups claiming %s registers an ordinary group', async (_what, claim) => {
    const res = await env.api('/api/groups', {
      method: 'POST',
      json: { jid: 'local:claimer', name: 'Claimer', folder: 'claimer', ...claim },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as any).group.isMain).toBe(false);
    expect(
      env.host.store.groups
        .list()
        .filter((g) => g.isMain)
        .map((g) => g.jid),
    ).toEqual(['local:main']);
    expect((await env.api('/api/groups/local%3Aclaimer', { method: 'DELETE' })).status).toBe(200);
  });

  const mount = (hostPath: string, containerPath = 'docs') => ({
    sandbox: { extraMounts: [{ hostPath, containerPath }] },
  });
  test.each([
    ['isMain', () => ({ isMain: true }), /Unrecognized key/],
    ['is_main', () => ({ is_main: true }), /Unrecognized key/],
    ['folder', () => ({ folder: 'main' }), /Unrecognized key/],
    ['jid', () => ({ jid: 'local:main' }), /Unrecognized key/],
    ['a __proto__ key', () => JSON.parse('{"__proto__": {"isMain": true}}'), /Unrecognized key/],
    ['a two-line trigger', () => ({ trigger: '@Andy\n@Everyone' }), /must be on one line/],
    ['an empty name', () => ({ name: '   ' }), /name: /],
    ['an egress policy that does not exist', () => ({ sandbox: { egress: 'everything' } }), /sandbox.egress: /],
    [
      'an egress destination with a path',
      () => ({ sandbox: { egressAllowlist: ['evil.com/../x'] } }),
      /must be a destination/,
    ],
    [
      'an egress destination with a scheme',
      () => ({ sandbox: { egressAllowlist: ['http://evil.com'] } }),
      /must be a destination/,
    ],
    [
      'an egress destination whose port does not exist',
      () => ({ sandbox: { egressAllowlist: ['example.com:99999'] } }),
      /must be a destination/,
    ],
    [
      'an egress destination with spaces',
      () => ({ sandbox: { egressAllowlist: ['evil.com other.com'] } }),
      /must be a destination/,
    ],
    ['a huge memory limit', () => ({ sandbox: { memoryMb: 1e12 } }), /sandbox.memoryMb: /],
    ['a fractional pid limit', () => ({ sandbox: { pids: 16.5 } }), /sandbox.pids: /],
    ['an unknown sandbox key', () => ({ sandbox: { privileged: true } }), /Unrecognized key/],
    [
      'a mount with an extra key',
      () => ({ sandbox: { extraMounts: [{ hostPath: allowedRoot, containerPath: 'd', options: 'rw' }] } }),
      /Unrecognized key/,
    ],
    ['a mount of the NanoClaw home', () => mount(env.home), /NanoClaw's own files/],
    ['a mount of the config dir', () => mount(env.config.configDir), /blocked pattern|NanoClaw's own files/],
    ['a mount of the store', () => mount(path.join(env.home, 'store')), /NanoClaw's own files/],
    [
      'a mount climbing out of the root',
      () => mount(path.join(allowedRoot, '..', '..')),
      /NanoClaw's own files|not under any allowed root/,
    ],
    ['a mount of /etc', () => mount('/etc'), /not under any allowed root/],
    ['a mount into ../', () => mount(path.join(allowedRoot, 'docs'), '../group'), /contains "\.\."/],
    ['a mount over /workspace', () => mount(path.join(allowedRoot, 'docs'), '/workspace/group'), /must be relative/],
    ['a mount with ":" options', () => mount(path.join(allowedRoot, 'docs'), 'docs:rw'), /contains ":"/],
    ['a relative host path', () => mount('docs'), /must be absolute/],
  ])('PATCH /api/groups/local:family with %s is refused, nothing saved', async (_what, patch, error) => {
    const digest = storeDigest(env.host.store);
    const res = await env.api('/api/groups/local%3Afamily', { method: 'PATCH', json: patch() });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatch(error);
    expect(storeDigest(env.host.store)).toBe(digest);
  });

  test('an allowed mount is saved (the check above is not refusing everything)', async () => {
    const res = await env.api('/api/groups/local%3Afamily', {
      method: 'PATCH',
      json: mount(path.join(allowedRoot, 'docs')),
    });
    expect(res.status).toBe(200);
    expect(
      (await env.api('/api/groups/local%3Afamily', { method: 'PATCH', json: { sandbox: { extraMounts: null } } }))
        .status,
    ).toBe(200);
  });

  test.each([
    ['a folder that climbs', { group_folder: '../main' }, /No registered group has the folder "\.\.\/main"/],
    ['an absolute folder', { group_folder: '/etc' }, /No registered group has the folder/],
    ['a folder that is not a string', { group_folder: 5 }, /group_folder is required/],
    ['a cron that never fires', { schedule_type: 'cron', schedule_value: '0 0 30 2 *' }, /never fires/],
    ['a cron every second', { schedule_type: 'cron', schedule_value: '* * * * * *' }, /has 5 fields/],
    ['an interval of one second', { schedule_type: 'interval', schedule_value: '1000' }, /at least 60000 ms/],
    ['a prompt that is not text', { prompt: { $gt: '' } }, /prompt is required/],
    ['a negative budget', { budget_tokens: -1 }, /budget_tokens must be a positive whole number/],
  ])('POST /api/tasks with %s is refused', async (_what, over, error) => {
    const digest = storeDigest(env.host.store);
    const res = await env.api('/api/tasks', {
      method: 'POST',
      json: { group_folder: 'family', prompt: 'x', schedule_type: 'interval', schedule_value: '3600000', ...over },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatch(error);
    expect(storeDigest(env.host.store)).toBe(digest);
  });

  test.each([
    ['../../x', 400],
    ['ABC2345', 400],
    ["' OR 1", 400],
    ['%25%25%25', 400],
    ['ABC\u00002', 400],
    ['ZZZZZZ', 404],
  ])('approving the pairing code %j is refused', async (code, status) => {
    const digest = storeDigest(env.host.store);
    const res = await env.api(`/api/pairing/${encodeURIComponent(code)}/approve`, { method: 'POST' });
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).error).toMatch(status === 400 ? /6 letters and digits/ : /no waiting code/);
    expect(storeDigest(env.host.store)).toBe(digest);
  });
});
