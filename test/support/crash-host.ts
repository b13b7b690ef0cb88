// A host run as its own process (see startHostProcess's `entry`) that kills
// itself with SIGKILL at one exact point, so a test can check what a user sees
// after a crash at the worst moment rather than at a random one:
//   NANOCLAW_CRASH_AFTER_ACK=n   right after the nth send a platform acknowledged
//                                (before the host waits on anything else);
//   NANOCLAW_CRASH_BEFORE_MARK=n at once when the nth send is acknowledged, before the outbox
//                                marks it sent (the platform has it; our database does not know);
//   NANOCLAW_CRASH_ON=reply      inside the write that puts a reply in the outbox;
//   NANOCLAW_CRASH_ON=cursor     inside the write that moves a chat's cursor.
// Telegram is the real channel, pointed at TELEGRAM_API_ROOT (a fake Bot API in
// the test process); so is Discord when DISCORD_BOT_TOKEN and DISCORD_API_URL are
// set (without catching up on missed messages: no store yet when it connects);
// so is Slack when SLACK_BOT_TOKEN is set (its Events API receiver), and Signal
// when SIGNAL_CLI_URL and SIGNAL_ACCOUNT are set. With NANOCLAW_WA_SENT_LOG set,
// WhatsApp runs on the fake Baileys socket, and every send it accepts is appended
// to that file before the channel sees the acknowledgement, so the count survives
// the kill. With WHATSAPP_WS_URL set instead, the real Baileys socket connects there.
import fs from 'node:fs';
import path from 'node:path';
import { discordSettings } from '../../src/plugins/discord/plugin.js';
import { createDiscordChannel } from '../../src/plugins/discord/discord.js';
import { signalSettings } from '../../src/plugins/signal/plugin.js';
import { createSignalChannel } from '../../src/plugins/signal/signal.js';
import { slackSettings } from '../../src/plugins/slack/plugin.js';
import { createSlackChannel } from '../../src/plugins/slack/slack.js';
import { telegramSettings } from '../../src/plugins/telegram/plugin.js';
import { createTelegramChannel } from '../../src/plugins/telegram/telegram.js';
import { whatsappSettings } from '../../src/plugins/whatsapp/plugin.js';
import { createWhatsAppChannel } from '../../src/plugins/whatsapp/whatsapp.js';
import { loadConfig } from '../../src/core/config/config.js';
import { startHost } from '../../src/host.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import type { Channel, SendOptions } from '../../src/core/types.js';
import { fakeSocketFactory, type FakeBaileysSocket } from './fake-baileys-socket.js';

const die = () => process.kill(process.pid, 'SIGKILL');

/**
 * Counts acknowledged sends across channels; the nth one ends the process once the current callbacks
 * finish (`at: 'after'`), or at once, before delivery hears of the acknowledgement (`at: 'before-mark'`).
 */
function crashAfterAck(n: number, at: 'after' | 'before-mark') {
  let acked = 0;
  return (ch: Channel): Channel =>
    new Proxy(ch, {
      get(target, prop, receiver) {
        if (prop !== 'sendMessage') return Reflect.get(target, prop, receiver);
        return async (jid: string, text: string, opts?: SendOptions) => {
          await target.sendMessage(jid, text, opts);
          if (++acked !== n) return;
          if (at === 'before-mark') die();
          // setImmediate runs after every promise continuation already queued: whatever
          // the host does straight after an acknowledgement is done, nothing that waits is.
          else setImmediate(die);
        };
      },
    });
}

function whatsapp(home: string, log: string): { channel: Channel; open(): void } {
  const wa = fakeSocketFactory();
  const makeSocket = (config: any): FakeBaileysSocket => {
    const sock = wa.makeSocket(config);
    const send = sock.sendMessage.bind(sock);
    sock.sendMessage = async (jid, content, options) => {
      const res = await send(jid, content, options);
      const text = 'text' in content ? content.text : content.caption;
      fs.appendFileSync(log, JSON.stringify({ jid, text, id: options?.messageId }) + '\n');
      return res;
    };
    return sock;
  };
  const channel = createWhatsAppChannel({
    authDir: path.join(home, 'store', 'auth', 'whatsapp'),
    assistantName: 'Andy',
    hasOwnNumber: false,
    logger: silentLogger(),
    identities: { canonical: (a) => a, link: () => {} },
    makeSocket: makeSocket as any,
  });
  return { channel, open: () => wa.latest().open() };
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const afterAck = Number(process.env.NANOCLAW_CRASH_AFTER_ACK ?? 0);
  const beforeMark = Number(process.env.NANOCLAW_CRASH_BEFORE_MARK ?? 0);
  let wrap: ((c: Channel) => Channel) | null = null;
  if (afterAck > 0) wrap = crashAfterAck(afterAck, 'after');
  else if (beforeMark > 0) wrap = crashAfterAck(beforeMark, 'before-mark');
  const channels: Channel[] = [];
  const telegram = telegramSettings(config.env);
  if (telegram.token) {
    channels.push(
      createTelegramChannel({
        token: telegram.token,
        apiRoot: telegram.apiRoot ?? undefined,
        assistantName: config.assistantName,
        logger: silentLogger(),
        pollingTimeoutSeconds: 1,
      }),
    );
  }
  const discord = discordSettings(config.env);
  if (discord.token && discord.apiRoot) {
    channels.push(
      createDiscordChannel({
        token: discord.token,
        apiRoot: discord.apiRoot,
        assistantName: config.assistantName,
        logger: silentLogger(),
      }),
    );
  }
  const slack = slackSettings(config.env);
  if (slack.botToken) {
    channels.push(
      createSlackChannel({
        botToken: slack.botToken,
        signingSecret: slack.signingSecret,
        eventsPort: slack.eventsPort,
        apiUrl: slack.apiUrl,
        assistantName: config.assistantName,
        logger: silentLogger(),
      }),
    );
  }
  const signal = signalSettings(config.env);
  if (signal.url && signal.account) {
    channels.push(
      createSignalChannel({
        url: signal.url,
        account: signal.account,
        sharesUserAccount: false,
        assistantName: config.assistantName,
        logger: silentLogger(),
      }),
    );
  }
  const wa = process.env.NANOCLAW_WA_SENT_LOG ? whatsapp(config.home, process.env.NANOCLAW_WA_SENT_LOG) : null;
  if (wa) channels.push(wa.channel);
  // With WHATSAPP_WS_URL (a provider server such as crabline's), the real Baileys socket instead.
  const waUrl = whatsappSettings(config.env).webSocketUrl;
  if (!wa && waUrl) {
    channels.push(
      createWhatsAppChannel({
        authDir: path.join(config.home, 'store', 'auth', 'whatsapp'),
        assistantName: config.assistantName,
        hasOwnNumber: whatsappSettings(config.env).hasOwnNumber,
        logger: silentLogger(),
        identities: { canonical: (a) => a, link: () => {} },
        webSocketUrl: waUrl,
      }),
    );
  }
  // NANOCLAW_TEST_LOG=1 shows the host's log on stderr (the test prints it when it fails).
  const logger = process.env.NANOCLAW_TEST_LOG ? createLogger({ level: 'debug', stderr: true }) : silentLogger();
  const host = await startHost({ config, logger, channels: wrap ? channels.map(wrap) : channels });

  const crashOn = process.env.NANOCLAW_CRASH_ON;
  if (crashOn) {
    // A temporary trigger lives on this connection only: the write it fires in is
    // still uncommitted when the process dies, as in a power cut mid-transaction.
    const db = host.store.db;
    db.function('nanoclaw_crash', () => {
      die();
      return 0;
    });
    if (crashOn === 'reply')
      db.exec(
        `CREATE TEMP TRIGGER crash_on_reply AFTER INSERT ON outbox WHEN NEW.kind = 'reply' BEGIN SELECT nanoclaw_crash(); END`,
      );
    else if (crashOn === 'cursor') {
      db.exec(`CREATE TEMP TRIGGER crash_on_cursor_insert AFTER INSERT ON cursors BEGIN SELECT nanoclaw_crash(); END`);
      db.exec(`CREATE TEMP TRIGGER crash_on_cursor_update AFTER UPDATE ON cursors BEGIN SELECT nanoclaw_crash(); END`);
    } else throw new Error(`NANOCLAW_CRASH_ON must be reply or cursor, not ${crashOn}`);
  }
  wa?.open();

  const hostJson = path.join(host.paths.data, 'host.json');
  fs.writeFileSync(`${hostJson}.tmp`, JSON.stringify({ url: host.url, pid: process.pid }) + '\n');
  fs.renameSync(`${hostJson}.tmp`, hostJson);
  process.once('SIGTERM', () => {
    void host.stop().finally(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
