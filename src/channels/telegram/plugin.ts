// The Telegram plugin: a bot token from @BotFather (TELEGRAM_BOT_TOKEN), an
// optional self-hosted Bot API server (TELEGRAM_API_ROOT), and who the owner is
// (TELEGRAM_OWNER_ID, or the user whose private chat is a main chat).
import type { ChannelContext, ChannelPlugin, CheckResult, PluginEnv, Settings } from '../plugin.js';
import { inboxDirFor, mediaStagingDir } from '../media-paths.js';
import { isTelegramDirectChat, telegramChatId, telegramJid } from './jids.js';

export const TELEGRAM_TOKEN = /^\d{5,}:[A-Za-z0-9_-]{30,}$/;

export interface TelegramSettings {
  token: string | null;
  apiRoot: string | null;
  /** The owner's Telegram user id, when set explicitly. */
  ownerId: string | null;
}

export function telegramSettings(env: Settings): TelegramSettings {
  const ownerId = env.TELEGRAM_OWNER_ID?.trim() || null;
  if (ownerId !== null && !/^\d+$/.test(ownerId)) {
    throw new Error(`TELEGRAM_OWNER_ID must be your numeric Telegram user id (e.g. 123456789), got "${ownerId}".`);
  }
  return { token: env.TELEGRAM_BOT_TOKEN?.trim() || null, apiRoot: env.TELEGRAM_API_ROOT?.trim() || null, ownerId };
}

/**
 * The owner, by id: TELEGRAM_OWNER_ID, or any user whose private chat (whose
 * chat id is their user id) is registered as a main chat. Never by name.
 */
export function telegramOwner(settings: TelegramSettings, store: ChannelContext['store']): (userId: string) => boolean {
  return (userId) => userId === settings.ownerId || store.groups.get(telegramJid(userId))?.isMain === true;
}

function checkTelegram({ env }: PluginEnv): CheckResult[] {
  let settings: TelegramSettings;
  try {
    settings = telegramSettings(env);
  } catch (err) {
    return [{ name: 'Telegram', level: 'fail', detail: (err as Error).message, fix: 'Fix TELEGRAM_OWNER_ID in .env, or remove it.' }];
  }
  if (!settings.token) return [{ name: 'Telegram', level: 'info', detail: 'not set up (optional): "nanoclaw auth telegram"' }];
  return [
    /^\d+:[A-Za-z0-9_-]{30,}$/.test(settings.token)
      ? { name: 'Telegram', level: 'ok', detail: 'bot token set' }
      : {
          name: 'Telegram',
          level: 'fail',
          detail: 'TELEGRAM_BOT_TOKEN does not look like a bot token (123456:ABC…)',
          fix: 'Run "nanoclaw auth telegram" and paste the token @BotFather gave you.',
        },
  ];
}

function checkedToken(value: string): string {
  if (!TELEGRAM_TOKEN.test(value))
    throw new Error('That does not look like a Telegram bot token (123456789:AA…); copy it again from @BotFather.');
  return value;
}

export const telegramPlugin: ChannelPlugin = {
  name: 'telegram',
  label: 'Telegram',
  ownsJid: (jid) => telegramChatId(jid) !== null,
  isDirectChat: isTelegramDirectChat,
  configured: ({ env }) => !!telegramSettings(env).token,

  async start(ctx) {
    const settings = telegramSettings(ctx.config.env);
    // grammY loads only when Telegram is configured, to keep an idle host small.
    const { createTelegramChannel } = await import('./telegram.js');
    return createTelegramChannel({
      token: settings.token ?? '',
      apiRoot: settings.apiRoot ?? undefined,
      assistantName: ctx.config.assistantName,
      logger: ctx.logger,
      inboxDirFor: (jid) => inboxDirFor(ctx, jid),
      stagingDir: mediaStagingDir(ctx.paths),
      isOwner: telegramOwner(settings, ctx.store),
    });
  },

  auth: {
    usage: 'telegram',
    async run(ctx) {
      if (process.stdin.isTTY) ctx.out.write('Create a bot with @BotFather in Telegram (/newbot) and copy the token it gives you.\n');
      const value = await ctx.readSecret('Telegram bot token: ');
      if (!value) {
        ctx.err.write('Nothing entered; nothing changed.\n');
        return 2;
      }
      const file = ctx.saveEnv({ TELEGRAM_BOT_TOKEN: checkedToken(value) });
      ctx.out.write(`Saved TELEGRAM_BOT_TOKEN to ${file} (readable only by you).\n${await ctx.restartHint()}\n`);
      ctx.out.write('Then message your bot; the chat appears in "nanoclaw groups list" and the dashboard, ready to register.\n');
      return 0;
    },
  },

  doctor: checkTelegram,

  async setup({ ask, out, paint, saveEnv }) {
    for (;;) {
      const token = await ask.secret('   Telegram bot token from @BotFather (hidden; Enter to skip): ');
      if (!token) return;
      try {
        saveEnv({ TELEGRAM_BOT_TOKEN: checkedToken(token) });
        out.write(`   ${paint.ok('✓')} Telegram bot token saved.\n`);
        return;
      } catch (err) {
        out.write(`   ${paint.bad('✗')} ${(err as Error).message}\n`);
      }
    }
  },

  setupHint: { before: 'Create a bot with @BotFather, run ', command: 'nanoclaw auth telegram', after: ' and restart NanoClaw.' },
};
