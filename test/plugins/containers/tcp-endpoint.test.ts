// The TCP gateway endpoint the containers plugin brings for VMs (Apple's container): nothing gets through without
// the sandbox's secret, the runner's client gets through with it, and its port counts as the host's own while open.
import http from 'node:http';
import net from 'node:net';
import { expect, test } from 'vitest';
import { noApprover } from '../../../src/core/ask.js';
import { createGateway, type Identity } from '../../../src/core/gateway/gateway.js';
import { silentLogger } from '../../../src/core/logger.js';
import { tcpEndpoint } from '../../../src/plugins/containers/tcp-endpoint.js';
import { connectGateway } from '../../../runner/gateway-client.js';

function get(connect: () => net.Socket, pathName: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .request({ createConnection: connect, method: 'GET', path: pathName }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject)
      .end();
  });
}

test('a TCP endpoint refuses connections without the sandbox secret and serves those with it', async () => {
  const ownPorts = new Set<number>();
  const gw = createGateway({
    upstream: 'http://127.0.0.1:9',
    credential: () => ({ kind: 'api-key', value: 'sk-real' }),
    logger: silentLogger(),
    ownPorts,
    hooks: [],
    approver: noApprover(() => undefined),
  });
  const identity: Identity = { groupFolder: 'vm', chatJid: 'local:vm', isMain: false, taskId: null };
  const ep = await gw.openEndpoint(
    '',
    identity,
    {
      start: () => ({
        turn: { prompt: 'x' },
        sessionId: 'sess-1',
        assistantName: 'Andy',
        isMain: false,
        groupName: 'g',
        isScheduledTask: false,
        tools: [],
      }),
      next: async () => ({ close: true }),
      event: () => {},
      tool: async () => ({ ok: true, text: 'done' }),
      sessionId: () => 'sess-1',
    },
    { openEndpoint: tcpEndpoint('127.0.0.1') },
  );
  const address = ep.env!.NANOCLAW_GATEWAY_SOCKET;
  const secret = ep.env!.NANOCLAW_GATEWAY_SECRET;
  expect(ep.socketPath).toBe('');
  expect(address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  const port = Number(address.split(':').pop());
  expect([...ownPorts]).toEqual([port]);
  const refused = (e: unknown) => ({ status: -1, text: String(e) });
  const bare = await get(() => net.connect(port, '127.0.0.1'), '/runner/start').catch(refused);
  expect(bare.status === 403 || bare.status === -1).toBe(true);
  const wrong = await get(() => connectGateway(address, 'f'.repeat(64)), '/runner/start').catch(refused);
  expect(wrong.status === 403 || wrong.status === -1).toBe(true);
  const right = await get(() => connectGateway(address, secret), '/runner/start');
  expect(right.status).toBe(200);
  expect(JSON.parse(right.text).sessionId).toBe('sess-1');
  await ep.close();
  expect([...ownPorts]).toEqual([]);
});
