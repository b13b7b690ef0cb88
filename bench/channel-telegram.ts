// Telegram: accepted by crabline's Bot API server → reply recorded by it.
import type { FakeAnthropic } from '../test/support/fake-anthropic.js';
import { TELEGRAM_PACING } from '../src/plugins/telegram/telegram.js';
import { channelLatency, type Latency } from './crabline-latency.js';

// A private chat: groups are also capped at 20 messages a minute.
const CHAT = '100001';

export function telegramLatency(fake: FakeAnthropic, runs: number): Promise<Latency> {
  return channelLatency(
    fake,
    {
      platform: 'telegram',
      chat: `tg:${CHAT}`,
      env: (s) => ({ TELEGRAM_BOT_TOKEN: s.manifest.botToken, TELEGRAM_API_ROOT: s.manifest.endpoints.apiRoot }),
      inject: (s, text) => s.inject({ chatId: CHAT, fromId: 100001, fromName: 'Bench', text }),
      pacing: TELEGRAM_PACING,
      isReply: (l) =>
        l.type === 'api' && !!l.accepted && /\/sendMessage$/.test(l.path ?? '') && String(l.body?.chat_id) === CHAT,
    },
    runs,
  );
}
