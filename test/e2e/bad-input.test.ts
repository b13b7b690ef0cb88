// Bad input is refused with a clear error and loses nothing.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lastUserText } from '../support/fake-anthropic.js';
import { startTestEnv, type TestEnv } from '../support/harness.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startTestEnv({ script: () => ({ text: 'Got it.' }) });
});
afterAll(async () => {
  await env?.close();
});

test.each([
  ['../x', /not allowed/],
  ['global', /reserved/],
  ['a'.repeat(200), /at most 64/],
  ['famïly', /not allowed/],
  ['Family', /not allowed/],
  ['', /required/],
  ['x/../../etc', /not allowed/],
])('hostile folder name %j is refused', async (folder, why) => {
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: `local:h${Math.random().toString(36).slice(2, 8)}`, name: 'Hostile', folder },
  });
  expect(res.status).toBe(400);
  expect(((await res.json()) as any).error).toMatch(why);
  expect(env.host.store.groups.list().map((g) => g.folder)).toEqual(['main']);
});

test('a group folder that is a symlink out of groups/ is refused', async () => {
  const fs = await import('node:fs');
  fs.symlinkSync('/etc', `${env.home}/groups/sneaky`);
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:sneaky', name: 'Sneaky', folder: 'sneaky' },
  });
  expect(res.status).toBe(400);
  expect(((await res.json()) as any).error).toMatch(/not a plain directory/);
});

test('a 1 MB message is stored and handled', async () => {
  const big = 'word '.repeat(210_000).trim();
  expect(big.length).toBeGreaterThan(1_000_000);
  await env.send('local:main', big);
  const [reply] = await env.waitForReply('local:main');
  expect(reply.text).toBe('Got it.');
  const stored = (await env.messages('local:main')).find((m) => !m.fromAssistant);
  expect(stored.text.length).toBe(big.length);
  expect(lastUserText(env.fake.turnRequests()[0]).length).toBeGreaterThan(1_000_000);
});

test('malformed API requests get a clear error', async () => {
  const bad = await env.api('/api/chats/local%3Amain/messages', {
    method: 'POST',
    body: '{not json',
    headers: { 'content-type': 'application/json' },
  });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as any).error).toMatch(/JSON/);
  const empty = await env.api('/api/chats/local%3Amain/messages', { method: 'POST', json: { text: '' } });
  expect(empty.status).toBe(400);
  const remote = await env.api('/api/chats/tg%3A123/messages', { method: 'POST', json: { text: 'hi' } });
  expect(remote.status).toBe(400);
  expect(((await remote.json()) as any).error).toMatch(/local/);
});

test('the API refuses requests without the token or with a wrong one; /healthz stays open', async () => {
  for (const [method, p] of [
    ['GET', '/api/groups'],
    ['POST', '/api/chats/local%3Amain/messages'],
    ['GET', '/api/chats/local%3Amain/messages'],
    ['GET', '/api/events'],
    ['DELETE', '/api/groups/local%3Amain'],
    ['GET', '/api/status'],
  ]) {
    const none = await fetch(env.host.url + p, { method });
    expect(none.status, `${method} ${p}`).toBe(401);
    const wrong = await fetch(env.host.url + p, { method, headers: { authorization: 'Bearer ' + 'x'.repeat(43) } });
    expect(wrong.status, `${method} ${p}`).toBe(401);
  }
  expect((await fetch(env.host.url + '/healthz')).status).toBe(200);
  expect(env.host.store.groups.get('local:main')).toBeTruthy();
});

test('the API listens on 127.0.0.1 only and the token file is private', async () => {
  const fs = await import('node:fs');
  expect(new URL(env.host.url).hostname).toBe('127.0.0.1');
  expect(fs.statSync(`${env.home}/data/api-token`).mode & 0o777).toBe(0o600);
});
