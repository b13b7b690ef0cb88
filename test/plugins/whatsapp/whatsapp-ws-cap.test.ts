// WhatsApp's WebSocket has a per-message cap: a server that sends a message
// past it gets its connection dropped (close 1009), the channel reconnects,
// and the owner is told once after 3 drops in a row. The server is our own at
// the protocol boundary (WHATSAPP_WS_URL): real Baileys dials it, and it
// answers each connection with one binary message past the cap.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { createWhatsAppChannel, WHATSAPP_MAX_MESSAGE_BYTES } from '../../../src/plugins/whatsapp/whatsapp.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { ChannelState } from '../../../src/core/types.js';
import { until } from '../../support/harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test('a WhatsApp message past the cap drops the connection (1009); it reconnects; the owner is told once', async () => {
  const closes: number[] = [];
  let connections = 0;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  cleanups.push(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  wss.on('connection', (ws) => {
    connections++;
    ws.on('close', (code) => closes.push(code));
    ws.send(Buffer.alloc(WHATSAPP_MAX_MESSAGE_BYTES + 1));
  });
  const { port } = wss.address() as { port: number };

  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-wa-cap-'));
  cleanups.push(async () => fs.rmSync(home, { recursive: true, force: true }));
  const notices: string[] = [];
  const states: ChannelState[] = [];
  const channel = createWhatsAppChannel({
    authDir: path.join(home, 'auth'),
    assistantName: 'Andy',
    hasOwnNumber: false,
    logger: silentLogger(),
    identities: { canonical: (a) => a, link() {} },
    webSocketUrl: `ws://127.0.0.1:${port}/ws/chat`,
    reconnectDelays: [10],
    notifyOwner: (text) => notices.push(text),
  });
  cleanups.push(() => channel.disconnect());
  await channel.connect({ onMessage() {}, onChat() {}, onState: (s) => states.push(s) });

  // Three drops, each closed by the client as too big, and the channel dialled again after each.
  await until(() => closes.length >= 3 && connections >= 4, 30_000, 'three oversized drops and a fourth connection');
  expect(closes.slice(0, 3)).toEqual([1009, 1009, 1009]);
  const tooBig = /^the server sent a message over 16 MB; reconnecting/;
  expect(states.some((s) => !s.connected && tooBig.test(s.detail ?? ''))).toBe(true);
  await until(() => notices.length > 0, 10_000, 'the owner notice');
  expect(notices).toHaveLength(1);
  expect(notices[0]).toMatch(/^WhatsApp: the server sent a message over 16 MB, 3 times in a row; NanoClaw keeps/);
}, 60_000);
