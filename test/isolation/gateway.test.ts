// The gateway on its own: identity comes from the endpoint, never the payload;
// usage is metered per group, session and task; the credential goes upstream only.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { noApprover } from '../../src/core/ask.js';
import { createGateway, type EndpointHandlers, type Identity } from '../../src/core/gateway/gateway.js';
import { silentLogger } from '../../src/core/logger.js';
import type { UsageRecord } from '../../src/core/gateway/types.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { connectThrough } from './support.js';

let fake: FakeAnthropic;
let dir: string;
const usage: UsageRecord[] = [];
const toolCalls: { identity: Identity; name: string; args: unknown }[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic(() => ({ text: 'hi', usage: { input_tokens: 12, output_tokens: 7 } }));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-gw-'));
});
afterAll(async () => {
  await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function gateway() {
  return createGateway({
    upstream: fake.url,
    credential: () => ({ kind: 'api-key', value: 'sk-real' }),
    logger: silentLogger(),
    ownPorts: new Set(),
    hooks: [{ onUsage: (u) => usage.push(u) }],
    approver: noApprover(() => undefined),
  });
}

function handlers(identity: Identity): EndpointHandlers {
  return {
    start: () => ({
      turn: { prompt: 'x' },
      sessionId: 'sess-1',
      assistantName: 'Andy',
      isMain: identity.isMain,
      groupName: 'g',
      isScheduledTask: !!identity.taskId,
      tools: [],
    }),
    next: async () => ({ close: true }),
    event: () => {},
    tool: async (name, args) => {
      toolCalls.push({ identity, name, args });
      return { ok: true, text: `done for ${identity.groupFolder}` };
    },
    sessionId: () => 'sess-1',
  };
}

function request(
  connect: () => net.Socket,
  method: string,
  pathName: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        createConnection: connect,
        method,
        path: pathName,
        headers: {
          ...headers,
          ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('gateway', () => {
  test("a payload claiming another group is served as the endpoint's own group, and usage is metered with its task", async () => {
    const gw = gateway();
    const identity: Identity = { groupFolder: 'family', chatJid: 'local:family', isMain: false, taskId: 'task-42' };
    const sock = path.join(dir, 'a.sock');
    const ep = await gw.openEndpoint(sock, identity, handlers(identity));
    const spoof = { groupFolder: 'main', chatJid: 'local:main', isMain: true, taskId: 'task-other' };
    const r = await request(() => net.connect(sock), 'POST', '/tools/send_message', { text: 'x', ...spoof });
    expect(JSON.parse(r.text)).toEqual({ ok: true, text: 'done for family' });
    expect(toolCalls.at(-1)?.identity).toEqual(identity);

    const before = usage.length;
    const m = await request(
      () => net.connect(sock),
      'POST',
      '/v1/messages',
      {
        model: 'claude-x',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
        metadata: { user_id: 'main' },
        ...spoof,
      },
      { 'x-api-key': 'placeholder', 'x-nanoclaw-group': 'main' },
    );
    expect(m.status).toBe(200);
    expect(usage.slice(before)).toEqual([
      {
        groupFolder: 'family',
        sessionId: 'sess-1',
        taskId: 'task-42',
        model: 'claude-x',
        inputTokens: 12,
        outputTokens: 7,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      },
    ]);
    // The placeholder was replaced; the upstream saw the real key.
    expect(fake.requests.at(-1)?.headers['x-api-key']).toBe('sk-real');
    await ep.close();
  });

  test('a conversation turn (no task) is metered with a null task id', async () => {
    const gw = gateway();
    const identity: Identity = { groupFolder: 'friends', chatJid: 'local:friends', isMain: false, taskId: null };
    const sock = path.join(dir, 'b.sock');
    const ep = await gw.openEndpoint(sock, identity, handlers(identity));
    const before = usage.length;
    await request(() => net.connect(sock), 'POST', '/v1/messages', {
      model: 'claude-x',
      max_tokens: 5,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(usage.slice(before)).toMatchObject([
      { groupFolder: 'friends', taskId: null, sessionId: 'sess-1', inputTokens: 12, outputTokens: 7 },
    ]);
    await ep.close();
  });

  test('an expired credential is reported to the sandbox as an authentication error with what to do', async () => {
    const gw = createGateway({
      upstream: fake.url,
      credential: async () => {
        throw new Error('The Claude OAuth token has expired: run "claude setup-token".');
      },
      logger: silentLogger(),
      ownPorts: new Set(),
      hooks: [],
      approver: noApprover(() => undefined),
    });
    const identity: Identity = { groupFolder: 'x', chatJid: 'local:x', isMain: false, taskId: null };
    const sock = path.join(dir, 'c.sock');
    const ep = await gw.openEndpoint(sock, identity, handlers(identity));
    const r = await request(() => net.connect(sock), 'POST', '/v1/messages', {
      model: 'm',
      max_tokens: 1,
      messages: [],
    });
    expect(r.status).toBe(401);
    expect(r.text).toContain('claude setup-token');
    await ep.close();
  });

  test("every plugin hears each model call's outcome and usage, by the endpoint's identity", async () => {
    const heard: string[] = [];
    const gw = createGateway({
      upstream: fake.url,
      credential: () => ({ kind: 'api-key', value: 'sk-real' }),
      logger: silentLogger(),
      ownPorts: new Set(),
      hooks: [
        {
          onModelCall: (id, o) => heard.push(`a:${id.groupFolder}:${o.ok}`),
          onUsage: () => {
            throw new Error('a broken plugin');
          },
        },
        {
          onModelCall: (id, o) => heard.push(`b:${id.groupFolder}:${o.ok}`),
          onUsage: (u) => heard.push(`b:usage:${u.groupFolder}`),
        },
      ],
      approver: noApprover(() => undefined),
    });
    const identity: Identity = { groupFolder: 'hooks', chatJid: 'local:hooks', isMain: false, taskId: null };
    const sock = path.join(dir, 'd.sock');
    const ep = await gw.openEndpoint(sock, identity, handlers(identity));
    const r = await request(() => net.connect(sock), 'POST', '/v1/messages', {
      model: 'claude-x',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'hi' }],
      groupFolder: 'main',
    });
    expect(r.status).toBe(200);
    expect(heard).toEqual(['a:hooks:true', 'b:hooks:true', 'b:usage:hooks']);
    await ep.close();
  });

  test("the runner's tool check goes to the core's approver with the endpoint's identity", async () => {
    const asked: unknown[] = [];
    const gw = createGateway({
      upstream: fake.url,
      credential: () => null,
      logger: silentLogger(),
      ownPorts: new Set(),
      hooks: [],
      approver: {
        runnerTool: async (id, tool, input) => {
          asked.push([id.groupFolder, tool, input]);
          return { approved: false, message: 'Not now.' };
        },
      },
    });
    const identity: Identity = { groupFolder: 'asker', chatJid: 'local:asker', isMain: false, taskId: null };
    const sock = path.join(dir, 'e.sock');
    const ep = await gw.openEndpoint(sock, identity, handlers(identity));
    const r = await request(() => net.connect(sock), 'POST', '/approvals/tool', {
      tool_name: 'Bash',
      input: { command: 'rm -rf x' },
      groupFolder: 'main',
    });
    expect(JSON.parse(r.text)).toEqual({ ok: true, approved: false, message: 'Not now.' });
    expect(asked).toEqual([['asker', 'Bash', { command: 'rm -rf x' }]]);
    await ep.close();
  });

  test('without a network plugin, CONNECT and plain http through the proxy are refused with the reason', async () => {
    let connections = 0;
    const dest = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => dest.listen(0, '127.0.0.1', r));
    const port = (dest.address() as net.AddressInfo).port;
    const identity: Identity = { groupFolder: 'bare', chatJid: 'local:bare', isMain: false, taskId: null };
    const sock = path.join(dir, 'f.sock');
    const ep = await gateway().openEndpoint(sock, identity, handlers(identity));
    try {
      const tunnel = await connectThrough(sock, `127.0.0.1:${port}`);
      expect(tunnel).toEqual({
        status: 403,
        header: 'refused',
        body: `NanoClaw refused 127.0.0.1:${port}: this sandbox has no network besides the model API (no network plugin is installed).\n`,
      });
      const plain = await request(() => net.connect(sock), 'GET', `http://127.0.0.1:${port}/x`);
      expect(plain.status).toBe(403);
      expect(plain.text).toMatch(/no network besides the model API/);
      expect(connections).toBe(0);
    } finally {
      await ep.close();
      dest.close();
    }
  });
});
