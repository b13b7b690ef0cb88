// Discord's gateway has a per-message cap: a server that sends a message past
// it gets its connection dropped (close 1009), the shard reconnects (resumes),
// a normal message afterwards still arrives, and the owner is told once after 3
// drops in a row. The server is our own at the protocol boundary: the REST
// /gateway/bot answer and a gateway speaking the documented opcodes (crabline
// cannot be made to send an oversized message).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createDiscordChannel, DISCORD_MAX_MESSAGE_BYTES } from '../../../src/plugins/discord/discord.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { ChannelState, Message } from '../../../src/core/types.js';
import { until } from '../../support/harness.js';
import { mediaStore } from '../../../src/plugins/media/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Answers /gateway/bot with its own gateway; after `oversizeOn()` each connection gets one message past the cap. */
async function startFakeDiscord(drops: number) {
  const closes: number[] = [];
  let sentOversized = 0;
  let armed = false;
  let latest: WebSocket | null = null;
  const server = http.createServer((req, res) => {
    const { port } = server.address() as AddressInfo;
    req.resume();
    if (req.url?.startsWith('/api/v10/gateway/bot')) {
      const limit = { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 };
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ url: `ws://127.0.0.1:${port}`, shards: 1, session_start_limit: limit }));
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Unknown', code: 0 }));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws)));
  const oversize = (ws: WebSocket) => {
    sentOversized++;
    ws.send('x'.repeat(DISCORD_MAX_MESSAGE_BYTES + 1));
  };
  wss.on('connection', (ws: WebSocket) => {
    latest = ws;
    let seq = 0;
    const dispatch = (t: string, d: unknown) => ws.send(JSON.stringify({ op: 0, t, s: ++seq, d }));
    ws.on('close', (code) => closes.push(code));
    ws.on('message', (data) => {
      const { op } = JSON.parse(data.toString());
      const { port } = server.address() as AddressInfo;
      if (op === 1) ws.send(JSON.stringify({ op: 11 }));
      if (op === 2) {
        const user = { id: '100', username: 'andy', discriminator: '0', bot: true };
        const d = { v: 10, user, guilds: [], session_id: 's1', resume_gateway_url: `ws://127.0.0.1:${port}` };
        dispatch('READY', { ...d, application: { id: '100', flags: 0 } });
      }
      if (op === 6) {
        if (armed && sentOversized < drops) return oversize(ws);
        dispatch('RESUMED', {});
        const author = { id: '200', username: 'alice', discriminator: '0', global_name: 'Alice' };
        dispatch('MESSAGE_CREATE', {
          id: '1300000000000000000',
          channel_id: '300',
          channel_type: 1,
          author,
          content: 'still here',
          timestamp: new Date().toISOString(),
          edited_timestamp: null,
          tts: false,
          mention_everyone: false,
          mentions: [],
          mention_roles: [],
          attachments: [],
          embeds: [],
          pinned: false,
          type: 0,
        });
      }
    });
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 45_000 } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiRoot: `http://127.0.0.1:${port}/api`,
    closes,
    /** From now on: an oversized message on the current connection and on each resume, `drops` times in all. */
    oversizeOn() {
      armed = true;
      oversize(latest!);
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('a gateway message past the cap drops it (1009); it resumes, a message arrives; told once', async () => {
  const fake = await startFakeDiscord(3);
  cleanups.push(() => fake.close());
  const notices: string[] = [];
  const states: ChannelState[] = [];
  const messages: Message[] = [];
  const channel = createDiscordChannel({
    token: 'test-token',
    apiRoot: fake.apiRoot,
    assistantName: 'Andy',
    logger: silentLogger(),
    media: mediaStore(() => null),
    notifyOwner: (text) => notices.push(text),
  });
  cleanups.push(() => channel.disconnect());
  await channel.connect({ onMessage: (m) => messages.push(m), onChat() {}, onState: (s) => states.push(s) });

  fake.oversizeOn();
  await until(() => fake.closes.length > 0, 15_000, 'the oversized message to drop the connection');
  await until(() => messages.length > 0, 45_000, 'the message after the drops');
  expect(messages[0]!.text).toBe('still here');
  expect(fake.closes.slice(0, 3)).toEqual([1009, 1009, 1009]);
  const tooBig = /^disconnected: the server sent a message over 16 MB; reconnecting$/;
  expect(states.some((s) => !s.connected && tooBig.test(s.detail ?? ''))).toBe(true);
  expect(states.at(-1)?.connected).toBe(true);
  expect(notices).toHaveLength(1);
  expect(notices[0]).toMatch(/^Discord: the server sent a message over 16 MB, 3 times in a row; NanoClaw keeps/);
}, 90_000);
