// Cross-site attacks on the dashboard and its API, as a browser on another
// site would make them: simple cross-origin POSTs (forms, text/plain fetches)
// carry no Authorization header, so they are refused; no answer grants another
// origin CORS access; no cookie is ever set or honoured; the page cannot be
// framed and holds no token.
import type { Hono } from 'hono';
import { afterAll, describe, expect, test } from 'vitest';
import { startTestEnv, TEST_KEY, type TestEnv } from '../support/harness.js';
import { countCases } from './count.js';
import { storeDigest } from './support.js';

countCases('csrf');

let app!: Hono;
const env: TestEnv = await startTestEnv({
  script: () => ({ text: 'ok' }),
  host: {
    extendApi: (a) => {
      app = a;
    },
  },
});
afterAll(async () => {
  await env.close();
});

const EVIL = 'http://evil.example';
const fill = (p: string) =>
  p
    .replace(':jid', encodeURIComponent('local:main'))
    .replace(':id', 'task-00000000')
    .replace(':code', 'ABC234')
    .replace(':name', 'whatsapp');
const all = [
  ...new Map(
    app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => [`${r.method} ${r.path}`, [r.method, fill(r.path)] as [string, string]]),
  ).values(),
];
const API = all.filter(([, p]) => p.startsWith('/api/'));
const WRITES = API.filter(([m]) => m !== 'GET');
const PUBLIC = all.filter(([m, p]) => m === 'GET' && !p.startsWith('/api/'));

/** What a page on another site can send without a preflight: no custom headers, a "simple" body. */
const SIMPLE_BODIES: [string, string, string][] = [
  ['an HTML form', 'application/x-www-form-urlencoded', 'jid=local%3Aevil&name=Evil&folder=evil&text=pwned'],
  [
    'a text/plain fetch with a JSON body',
    'text/plain',
    JSON.stringify({
      jid: 'local:evil',
      name: 'Evil',
      folder: 'evil',
      text: 'pwned',
      group_folder: 'main',
      prompt: 'x',
      schedule_type: 'interval',
      schedule_value: '60000',
    }),
  ],
  [
    'a multipart form',
    'multipart/form-data; boundary=x',
    '--x\r\ncontent-disposition: form-data; name="text"\r\n\r\npwned\r\n--x--\r\n',
  ],
];

describe('cross-origin writes without the bearer header', () => {
  const rows = WRITES.flatMap(([m, p]) => SIMPLE_BODIES.map(([what, type, body]) => [m, p, what, type, body] as const));
  test.each(rows)('%s %s from %s (with the token in a cookie) is refused', async (method, p, _what, type, body) => {
    const digest = storeDigest(env.host.store);
    const res = await fetch(env.host.url + p, {
      method,
      body,
      headers: {
        origin: EVIL,
        referer: `${EVIL}/attack.html`,
        'content-type': type,
        cookie: `token=${env.host.token}; nanoclaw.token=${env.host.token}`,
        'sec-fetch-site': 'cross-site',
      },
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toMatch(/^Missing or wrong API token/);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(storeDigest(env.host.store)).toBe(digest);
  });

  test('a sandboxed frame (Origin: null) posting a message is refused', async () => {
    const digest = storeDigest(env.host.store);
    const res = await fetch(`${env.host.url}/api/chats/local%3Amain/messages`, {
      method: 'POST',
      headers: { origin: 'null', 'content-type': 'text/plain' },
      body: '{"text":"pwned"}',
    });
    expect(res.status).toBe(401);
    expect(storeDigest(env.host.store)).toBe(digest);
  });
});

describe('no CORS grant to another origin', () => {
  test.each(all)('preflight for %s %s grants nothing', async (method, p) => {
    const res = await fetch(env.host.url + p, {
      method: 'OPTIONS',
      headers: {
        origin: EVIL,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')).toBeNull();
    expect(res.headers.get('access-control-allow-methods')).toBeNull();
    expect(res.status === 204 || res.status === 200).toBe(false);
  });

  test('even with the right token, answers to another origin carry no CORS grant', async () => {
    for (const [method, p] of API.filter(([m]) => m === 'GET')) {
      const res = await fetch(env.host.url + p, {
        headers: { origin: EVIL, authorization: `Bearer ${env.host.token}` },
        signal: AbortSignal.timeout(5_000),
      });
      expect(res.headers.get('access-control-allow-origin'), `${method} ${p}`).toBeNull();
      await res.body?.cancel();
    }
  });
});

describe('no cookies, and a page that cannot be framed', () => {
  test('no route sets a cookie, with or without the token', async () => {
    for (const [method, p] of all) {
      for (const auth of [{}, { authorization: `Bearer ${env.host.token}` }] as Record<string, string>[]) {
        const res = await fetch(env.host.url + p, {
          method,
          headers: { ...auth, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
          body: method === 'GET' ? undefined : '{}',
          signal: AbortSignal.timeout(5_000),
        });
        expect(res.headers.get('set-cookie'), `${method} ${p}`).toBeNull();
        await res.body?.cancel();
      }
    }
  });

  test.each(PUBLIC)('%s %s is public, cannot be framed, and holds no secret', async (_m, p) => {
    const res = await fetch(env.host.url + p);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(env.host.token);
    expect(text).not.toContain(TEST_KEY);
    expect(text).not.toMatch(/document\.cookie|credentials:\s*['"]include['"]|withCredentials/);
    if (p !== '/healthz') {
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
      expect(res.headers.get('content-security-policy')).toMatch(/form-action 'none'/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  test('a rebound host name (Host: evil.example) still gets no data without the token', async () => {
    const http = await import('node:http');
    const u = new URL(env.host.url);
    const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        { host: u.hostname, port: u.port, path: '/api/groups', headers: { host: 'evil.example', origin: EVIL } },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(r.status).toBe(401);
    expect(r.text).not.toContain('local:main');
  });
});
