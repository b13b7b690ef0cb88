// Slack Socket Mode has a per-message cap: a server that sends a message past it
// gets its connection dropped (close 1009), Socket Mode reconnects, a normal
// event afterwards still arrives, and the owner is told once after 3 drops in a
// row. The server is our own at the protocol boundary: the Web API methods the
// channel and Socket Mode call, and the WebSocket Socket Mode dials (crabline's
// Slack server has no Socket Mode).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createSlackReceiver, SLACK_MAX_MESSAGE_BYTES } from '../../../src/plugins/slack/receiver.js';
import { createSlackChannel } from '../../../src/plugins/slack/slack.js';
import type { ChannelState, Message } from '../../../src/core/types.js';
import { until } from '../../support/harness.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet } as any;

interface FakeSlack {
  apiUrl: string;
  /** Close codes the server saw, one per connection, in order. */
  closes: number[];
  acks: string[];
  close(): Promise<void>;
}

/** The first `oversizedFirst` connections get hello and then one message past the cap; later ones a message event. */
async function startFakeSlack(oversizedFirst: number): Promise<FakeSlack> {
  const closes: number[] = [];
  const acks: string[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0];
    const { port } = server.address() as AddressInfo;
    const body =
      method === 'auth.test'
        ? { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team: 'Test' }
        : method === 'apps.connections.open'
          ? { ok: true, url: `ws://127.0.0.1:${port}/link` }
          : method === 'users.info'
            ? { ok: true, user: { id: 'U1', name: 'alice', profile: { display_name: 'Alice' } } }
            : { ok: false, error: 'unknown_method' };
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws)));
  wss.on('connection', (ws: WebSocket) => {
    const n = ++connections;
    ws.on('close', (code) => closes.push(code));
    ws.on('message', (data) => acks.push(JSON.parse(data.toString()).envelope_id));
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1 }));
    if (n <= oversizedFirst) {
      ws.send('x'.repeat(SLACK_MAX_MESSAGE_BYTES + 1));
      return;
    }
    const event = { type: 'message', channel: 'D0ALICE', channel_type: 'im', user: 'U1', text: 'still here' };
    const payload = { type: 'event_callback', event: { ...event, ts: '1700000000.000100' } };
    ws.send(JSON.stringify({ type: 'events_api', envelope_id: `env-${n}`, payload }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    closes,
    acks,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test('a message past the cap drops Socket Mode (1009); it reconnects, the next event arrives; told once', async () => {
  const fake = await startFakeSlack(3);
  cleanups.push(() => fake.close());
  const notices: string[] = [];
  const states: ChannelState[] = [];
  const messages: Message[] = [];
  const channel = createSlackChannel({
    botToken: 'xoxb-test',
    appToken: 'xapp-test',
    apiUrl: fake.apiUrl,
    assistantName: 'Andy',
    logger: quiet,
    notifyOwner: (text) => notices.push(text),
    // Socket Mode waits its ping timeout (times the failures) before reconnecting; short here.
    makeReceiver: (s) => createSlackReceiver({ ...s, clientPingTimeoutMs: 200 }),
  });
  cleanups.push(() => channel.disconnect());
  await channel.connect({ onMessage: (m) => messages.push(m), onChat() {}, onState: (s) => states.push(s) });

  await until(() => fake.closes.length > 0, 15_000, 'the oversized message to drop the connection');
  await until(() => messages.length > 0, 30_000, 'the event after the drops');
  expect(messages[0]!.text).toBe('still here');
  expect(fake.acks).toContain('env-4');
  // Each oversized message cost its connection, closed by the client as too big.
  expect(fake.closes.slice(0, 3)).toEqual([1009, 1009, 1009]);
  const tooBig = /^disconnected: the server sent a message over 4 MB; reconnecting$/;
  expect(states.some((s) => !s.connected && tooBig.test(s.detail ?? ''))).toBe(true);
  expect(states.at(-1)?.connected).toBe(true);
  expect(channel.isConnected()).toBe(true);
  expect(notices).toHaveLength(1);
  expect(notices[0]).toMatch(/^Slack: the server sent a message over 4 MB, 3 times in a row; NanoClaw keeps/);
}, 60_000);
