// WhatsApp: accepted by crabline's WhatsApp Web server → reply recorded by it,
// over the real Baileys socket with seeded credentials (crabline has no QR flow).
import fs from 'node:fs';
import path from 'node:path';
import { BufferJSON, initAuthCreds } from 'baileys';
import type { FakeAnthropic } from '../test/support/fake-anthropic.js';
import { WHATSAPP_PACING } from '../src/plugins/whatsapp/whatsapp.js';
import { channelLatency, type Latency } from './crabline-latency.js';

const CHAT = '15551234567@s.whatsapp.net';

function seed(home: string, selfJid: string): void {
  const dir = path.join(home, 'store', 'auth', 'whatsapp');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const creds = {
    ...initAuthCreds(),
    registered: true,
    me: { id: `${selfJid.split('@')[0]}:1@s.whatsapp.net`, name: 'Bench' },
  };
  fs.writeFileSync(path.join(dir, 'creds.json'), JSON.stringify(creds, BufferJSON.replacer), { mode: 0o600 });
}

export function whatsappLatency(fake: FakeAnthropic, runs: number): Promise<Latency> {
  return channelLatency(
    fake,
    {
      platform: 'whatsapp',
      chat: CHAT,
      env: (s) => ({ WHATSAPP_WS_URL: s.manifest.endpoints.baileysWebSocketUrl }),
      seed: (home, s) => seed(home, s.manifest.selfJid),
      inject: (s, text) => s.inject({ chatJid: CHAT, senderJid: CHAT, text }),
      pacing: WHATSAPP_PACING,
      isReply: (l) => l.type === 'api' && !!l.accepted && l.method === 'WEBSOCKET' && l.body?.key?.remoteJid === CHAT,
    },
    runs,
  );
}
