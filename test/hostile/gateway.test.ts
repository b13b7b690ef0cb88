// Malformed, oversized and misrouted calls on a sandbox's gateway endpoint: each
// is refused with a status and words that say why, and nothing is stored,
// created or leaked.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { noApprover } from '../../src/core/ask.js';
import { createGateway, type Identity } from '../../src/core/gateway/gateway.js';
import { silentLogger } from '../../src/core/logger.js';
import { TCP_PREAMBLE, tcpEndpoint } from '../../src/plugins/containers/tcp-endpoint.js';
import { until } from '../support/harness.js';
import { countCases } from './count.js';
import { IDENTITIES, leaks, RIG_KEY, startRig, storeDigest, tree, type Rig } from './support.js';

countCases('gateway');

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.close();
});

/** Runs `attack`, then checks that the store, the files and the runner events are as before. */
async function unchanged<T>(attack: () => Promise<T>): Promise<T> {
  const digest = storeDigest(rig.store);
  const files = tree(rig.root);
  const events = rig.events.length;
  const result = await attack();
  expect(storeDigest(rig.store)).toBe(digest);
  expect(tree(rig.root)).toEqual(files);
  expect(rig.events.length).toBe(events);
  return result;
}

const TOOLS = [
  'send_message',
  'search_messages',
  'schedule_task',
  'list_tasks',
  'get_task',
  'update_task',
  'pause_task',
  'resume_task',
  'cancel_task',
  'register_group',
  'unregister_group',
  'list_groups',
];

describe('unknown routes and wrong methods', () => {
  test.each([
    ['GET', '/'],
    ['GET', '/healthz'],
    ['GET', '/tools/send_message'],
    ['PUT', '/tools/send_message'],
    ['PATCH', '/tools/register_group'],
    ['DELETE', '/tools/cancel_task'],
    ['OPTIONS', '/tools/list_groups'],
    ['GET', '/runner/event'],
    ['PUT', '/runner/event'],
    ['POST', '/runner/start'],
    ['POST', '/runner/next'],
    ['GET', '/runner/start/'],
    ['GET', '/runner/next?wait=1'],
    ['GET', '/runner/../runner/start'],
    ['POST', '/tools/'],
    ['POST', '/tools'],
    ['POST', '/tools/SEND_MESSAGE'],
    ['POST', '/tools/send-message'],
    ['POST', '/tools/send_message/'],
    ['POST', '/tools/send_message/extra'],
    ['POST', '/tools/send_message?as=main'],
    ['POST', '/tools/%73end_message'],
    ['POST', '/tools/../tools/list_groups'],
    ['POST', '//tools/send_message'],
    ['POST', `/tools/${'a'.repeat(41)}`],
    ['POST', '/tools/list_groups%00'],
    // A backslash: refused by the gateway's own raw check, not by a URL parser's bare 400.
    ['POST', '/tools\\list_groups'],
    ['GET', '/runner\\start'],
    ['POST', '/runner/event/'],
    ['POST', '/api/groups'],
    ['DELETE', '/api/groups/local:work'],
  ])('%s %s is not a route', async (method, p) => {
    const r = await unchanged(() => rig.request('family', method, p, method === 'GET' ? undefined : { text: 'x' }));
    expect(r.status).toBe(404);
    expect(r.json.error).toMatch(/^No such gateway route: /);
  });

  test.each(['a@b', '[::1', 'x/../y', 'evil.example:99999'])(
    "a Host header of %j changes nothing: the call is served as its endpoint's",
    async (host) => {
      const r = await unchanged(() => rig.request('main', 'POST', '/tools/list_groups', {}, { host }));
      expect(r.status).toBe(200);
      expect(r.json.ok).toBe(true);
    },
  );

  test('HEAD on a runner route is refused, with no body', async () => {
    const r = await unchanged(() => rig.request('family', 'HEAD', '/runner/start'));
    expect(r.status).toBe(404);
    expect(r.text).toBe('');
  });

  test.each(['constructor', '__proto__', 'hasownproperty', 'format_disk', 'register_groups', 'eval'])(
    'the tool name %j is unknown, not an object property',
    async (name) => {
      const r = await unchanged(() => rig.request('main', 'POST', `/tools/${name}`, {}));
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ ok: false, error: `Unknown tool "${name}".` });
    },
  );
});

describe('bodies that are not JSON', () => {
  test.each(TOOLS.map((t) => [t]))('/tools/%s with a broken body', async (name) => {
    const r = await unchanged(() => rig.request('main', 'POST', `/tools/${name}`, '{"text": "hi", "jid":'));
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ ok: false, error: 'Call body is not valid JSON.' });
  });

  test.each([
    ['an unclosed object', '{'],
    ['single quotes', "{'text':'hi'}"],
    ['a trailing brace', '{"text":"hi"}}'],
    ['a byte-order mark', '\ufeff{"text":"hi"}'],
    ['a bare word', 'hello'],
    ['NaN', '{"text": NaN}'],
    ['a JavaScript comment', '{"text":"hi" /* x */}'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x7d])],
  ])('send_message with %s', async (_what, body) => {
    const r = await unchanged(() => rig.request('family', 'POST', '/tools/send_message', body));
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('Call body is not valid JSON.');
  });

  test.each([
    ['not JSON', '{type:'],
    ['without a type', '{}'],
    ['with a numeric type', '{"type": 7}'],
    ['an array', '[{"type":"result"}]'],
    ['null', 'null'],
  ])('a runner event %s is refused', async (_what, body) => {
    const r = await unchanged(() => rig.request('family', 'POST', '/runner/event', body));
    expect(r.status).toBe(400);
    expect(r.json.ok).toBe(false);
    expect(r.json.error).toMatch(/not valid JSON|Event needs a type/);
  });

  test.each([
    ['an array', '[]'],
    ['a string', '"send it"'],
    ['a number', '42'],
    ['true', 'true'],
  ])('send_message with %s for arguments', async (_what, body) => {
    const r = await unchanged(() => rig.request('family', 'POST', '/tools/send_message', body));
    expect(r.status).toBe(200);
    expect(r.json.ok).toBe(false);
    expect(r.json.error).toMatch(/^Invalid arguments: /);
  });
});

describe('oversized calls', () => {
  test('a tool call over 1 MB is refused before it is parsed', async () => {
    const body = JSON.stringify({ text: 'x'.repeat(1024 * 1024) });
    const r = await unchanged(() => rig.request('family', 'POST', '/tools/send_message', body));
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ ok: false, error: 'Call body over 1 MB.' });
  });

  test('a runner event over 1 MB is refused', async () => {
    const r = await unchanged(() =>
      rig.request('family', 'POST', '/runner/event', JSON.stringify({ type: 'result', text: 'y'.repeat(1_100_000) })),
    );
    expect(r.status).toBe(413);
    expect(r.json.error).toBe('Call body over 1 MB.');
  });

  test('a chunked tool call (no length given) over 1 MB is refused', async () => {
    const r = await unchanged(
      () =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = http.request(
            {
              socketPath: rig.sockets.family,
              method: 'POST',
              path: '/tools/send_message',
              agent: false,
              headers: { 'transfer-encoding': 'chunked' },
            },
            (res) => {
              let text = '';
              res.on('data', (c) => (text += c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
            },
          );
          req.on('error', reject);
          const chunk = Buffer.alloc(64 * 1024, 0x61);
          req.write('{"text":"');
          for (let i = 0; i < 20; i++) req.write(chunk);
          req.end('"}');
        }),
    );
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text).error).toBe('Call body over 1 MB.');
  });

  test('a 64,001-character message (just under 1 MB of call) is refused by its limit', async () => {
    const r = await unchanged(() => rig.tool('family', 'send_message', { text: 'z'.repeat(64_001) }));
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/^Invalid arguments: text: .*64000/) });
  });

  test('a model request over 32 MB is refused and never reaches the upstream', async () => {
    const before = rig.fake.requests.length;
    const usage = storeDigest(rig.store);
    const body = Buffer.alloc(32 * 1024 * 1024 + 1, 0x20);
    const r = await rig.request('family', 'POST', '/v1/messages', body);
    expect(r.status).toBe(413);
    expect(r.json).toEqual({
      type: 'error',
      error: { type: 'request_too_large', message: 'Request body over 32 MB.' },
    });
    expect(rig.fake.requests.length).toBe(before);
    expect(storeDigest(rig.store)).toBe(usage);
  });
});

describe('the model proxy keeps the credential on the host', () => {
  let evil: http.Server;
  let evilPort = 0;
  const evilHits: string[] = [];
  beforeAll(async () => {
    evil = http.createServer((req, res) => {
      evilHits.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      res.end('{}');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilPort = (evil.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => evil.close(() => r()));
  });

  test.each([
    ['x-api-key', { 'x-api-key': 'sk-ant-attacker' }],
    ['authorization', { authorization: 'Bearer sk-ant-attacker' }],
    ['proxy-authorization', { 'proxy-authorization': 'Basic YXR0YWNrZXI=' }],
    ['cookie', { cookie: 'session=attacker' }],
  ])('a %s header from the sandbox is replaced, never forwarded', async (_h, headers) => {
    const r = await rig.request(
      'family',
      'POST',
      '/v1/messages',
      { model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
      headers,
    );
    expect(r.status).toBe(200);
    const seen = rig.fake.requests.at(-1)!;
    expect(seen.headers['x-api-key']).toBe(RIG_KEY);
    expect(JSON.stringify(seen.headers)).not.toContain('attacker');
    expect(JSON.stringify(seen.headers)).not.toContain('YXR0YWNrZXI');
    expect(leaks(r.text + JSON.stringify(r.headers), [RIG_KEY])).toEqual([]);
  });

  test.each([
    (p: number) => `/v1/../..//127.0.0.1:${p}/steal`,
    (p: number) => `/v1/%2e%2e/%2e%2e/127.0.0.1:${p}/steal`,
    (p: number) => `/v1//127.0.0.1:${p}/steal`,
    (p: number) => `/v1/@127.0.0.1:${p}/steal`,
    (p: number) => `/v1/\\\\127.0.0.1:${p}\\steal`,
    (p: number) => `/v1/messages?url=http://127.0.0.1:${p}/steal`,
  ])('a crafted path (%#) still only reaches the configured upstream', async (craft) => {
    const r = await rig.request('family', 'POST', craft(evilPort), { model: 'claude-x', max_tokens: 5, messages: [] });
    expect(evilHits).toEqual([]);
    expect(leaks(r.text, [RIG_KEY])).toEqual([]);
  });
});

describe('a TCP endpoint (for VMs) lets nothing through without its secret', () => {
  test.each([
    [
      'no preamble at all',
      (_s: string) => 'POST /tools/list_groups HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}',
    ],
    ['a wrong secret', (_s: string) => `${TCP_PREAMBLE}${'0'.repeat(64)}\n`],
    ['the secret with a different case', (s: string) => `${TCP_PREAMBLE}${s.toUpperCase()}\n`],
    ['a truncated secret', (s: string) => `${TCP_PREAMBLE}${s.slice(0, 63)}\n`],
  ])('%s', async (_what, first) => {
    const gateway = createGateway({
      upstream: rig.fake.url,
      credential: () => ({ kind: 'api-key', value: RIG_KEY }),
      logger: silentLogger(),
      ownPorts: new Set(),
      hooks: [],
      approver: noApprover(() => undefined),
    });
    const calls: string[] = [];
    const identity: Identity = IDENTITIES.main;
    const ep = await gateway.openEndpoint(
      '',
      identity,
      {
        start: () => ({
          turn: { prompt: 'x' },
          sessionId: null,
          assistantName: 'Andy',
          isMain: true,
          groupName: 'main',
          isScheduledTask: false,
          tools: [],
        }),
        next: async () => ({ close: true }),
        event: () => {},
        tool: async (name) => {
          calls.push(name);
          return { ok: true, text: 'done' };
        },
        sessionId: () => null,
      },
      { openEndpoint: tcpEndpoint('127.0.0.1') },
    );
    const secret = ep.env!.NANOCLAW_GATEWAY_SECRET;
    try {
      const port = Number(ep.env!.NANOCLAW_GATEWAY_SOCKET.split(':').pop());
      const answer = await new Promise<string>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        let text = '';
        s.on('data', (c) => (text += c));
        s.on('close', () => resolve(text));
        s.on('error', () => resolve(text));
        s.write(first(secret));
        s.write('POST /tools/list_groups HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}');
        setTimeout(() => s.destroy(), 6_000);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden[\s\S]*needs the sandbox secret/);
      expect(calls).toEqual([]);
      expect(answer).not.toContain(secret);
    } finally {
      await ep.close();
    }
  });
});

describe('the model proxy forwards only the Messages API, and meters what it forwards', () => {
  const call = { model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
  const familyUsage = () =>
    rig.store.usage.byGroup().find((g) => g.groupFolder === 'family') ?? { calls: 0, inputTokens: 0, outputTokens: 0 };

  test.each([
    ['POST', '/v1/../x'],
    ['POST', '/v1/../../etc/passwd'],
    ['POST', '/v1/%2e%2e/x'],
    ['POST', '/v1/%2E%2E/%2e%2e/x'],
    ['POST', '/v1/%252e%252e/x'],
    ['POST', '/v1/..%2fx'],
    ['POST', '/v1/..%5cx'],
    ['POST', '/v1\\..\\x'],
    ['POST', '/v1/models'],
    ['GET', '/v1/models'],
    ['POST', '/v1/complete'],
    ['POST', '/v1/files'],
    ['POST', '/v1/messages/batches'],
    ['POST', '/v1/messages/count_tokens/../batches'],
    ['POST', '/v1/organizations/users'],
    ['POST', '/v1/messages%3fbeta=true'],
    ['POST', '/v1/messages%00'],
    ['POST', '/v1/messages%'],
    ['POST', '/V1/messages'],
    ['POST', '/v1'],
    ['POST', '//v1//models'],
    ['GET', '/v1/messages'],
    ['DELETE', '/v1/messages'],
    ['GET', '/v1/messages/count_tokens'],
  ])('%s %s is refused with 403 and never reaches the upstream', async (method, p) => {
    const before = rig.fake.requests.length;
    const r = await unchanged(() => rig.request('family', method, p, method === 'GET' ? undefined : call));
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    expect(r.json.error.message).toMatch(
      /^NanoClaw forwards only POST \/v1\/messages and POST \/v1\/messages\/count_tokens to the model API; /,
    );
    expect(rig.fake.requests.length).toBe(before);
  });

  test.each([
    ['/v1/messages', '/v1/messages'],
    ['/v1/messages?beta=true', '/v1/messages?beta=true'],
    ['/v1/../v1/messages', '/v1/messages'],
    ['/v1/%2e%2e/v1/messages?beta=true', '/v1/messages?beta=true'],
    ['/v1/%252e%252e/v1/messages', '/v1/messages'],
    ['//v1//messages', '/v1/messages'],
    ['/v1/./messages/', '/v1/messages'],
    ['/v1\\messages', '/v1/messages'],
    ['/%76%31/messages', '/v1/messages'],
    ['/tools/../v1/messages', '/v1/messages'],
  ])('%s is forwarded as %s and its usage recorded', async (p, forwarded) => {
    const before = familyUsage();
    const r = await rig.request('family', 'POST', p, call);
    expect(r.status).toBe(200);
    expect(rig.fake.requests.at(-1)?.url).toBe(forwarded);
    const after = familyUsage();
    expect(after.calls).toBe(before.calls + 1);
    expect(after.outputTokens - before.outputTokens).toBe(2);
  });

  test('count_tokens is forwarded with its query string (it spends no tokens, so records none)', async () => {
    const before = familyUsage();
    const r = await rig.request('family', 'POST', '/v1/messages/count_tokens?beta=true', call);
    expect(r.status).toBe(200);
    expect(typeof r.json.input_tokens).toBe('number');
    expect(rig.fake.requests.at(-1)?.url).toBe('/v1/messages/count_tokens?beta=true');
    expect(familyUsage().calls).toBe(before.calls);
  });

  test('a streamed answer of several megabytes is metered by its final usage', async () => {
    rig.fake.setScript(() => ({
      text: 'y'.repeat(6 * 1024 * 1024),
      usage: { input_tokens: 3, output_tokens: 900_000 },
    }));
    try {
      const before = familyUsage();
      const r = await rig.request('family', 'POST', '/v1/messages', { ...call, stream: true });
      expect(r.status).toBe(200);
      expect(familyUsage().outputTokens - before.outputTokens).toBe(900_000);
    } finally {
      rig.fake.setScript(() => ({ text: 'hi', usage: { input_tokens: 3, output_tokens: 2 } }));
    }
  });

  test('a sandbox that hangs up mid-stream is still metered', async () => {
    rig.fake.setScript(() => ({ text: 'z'.repeat(8 * 1024 * 1024), usage: { input_tokens: 3, output_tokens: 777 } }));
    try {
      const before = familyUsage();
      await new Promise<void>((resolve, reject) => {
        const data = JSON.stringify({ ...call, stream: true });
        const req = http.request(
          {
            socketPath: rig.sockets.family,
            method: 'POST',
            path: '/v1/messages',
            agent: false,
            headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) },
          },
          (res) => {
            res.once('data', () => {
              res.pause();
              req.destroy();
              resolve();
            });
          },
        );
        req.on('error', () => {});
        req.on('close', () => resolve());
        setTimeout(() => reject(new Error('no answer began')), 10_000);
        req.end(data);
      });
      await until(
        () => familyUsage().outputTokens - before.outputTokens === 777,
        10_000,
        'the hung-up call to be metered',
      );
    } finally {
      rig.fake.setScript(() => ({ text: 'hi', usage: { input_tokens: 3, output_tokens: 2 } }));
    }
  });
});
