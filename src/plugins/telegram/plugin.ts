// The Telegram plugin: a bot token from @BotFather (TELEGRAM_BOT_TOKEN), an
// optional self-hosted Bot API server (TELEGRAM_API_ROOT), and who the owner is
// (TELEGRAM_OWNER_ID, or the user whose private chat is a main chat).
import { type ChannelContext, type ChannelPlugin, type Settings } from '../../core/channels/plugin.js';
import { setupByForm, tokenCheck, type SaveEnv, type TokenForm } from '../../kit/channel-setup.js';
import { ANSWER_MAX_BYTES, readJson } from '../../kit/bounded.js';
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

const checkTelegram = tokenCheck({
  name: 'Telegram',
  read: telegramSettings,
  fix: 'Fix TELEGRAM_OWNER_ID in .env, or remove it.',
  isSet: (s) => !!s.token,
  check: (s) =>
    /^\d+:[A-Za-z0-9_-]{30,}$/.test(s.token!)
      ? { level: 'ok', detail: 'bot token set' }
      : {
          level: 'fail',
          detail: 'TELEGRAM_BOT_TOKEN does not look like a bot token (123456:ABC…)',
          fix: 'Run "nanoclaw auth telegram" and paste the token @BotFather gave you.',
        },
});

function checkedToken(value: string): string {
  if (!TELEGRAM_TOKEN.test(value))
    throw new Error('That does not look like a Telegram bot token (123456789:AA…); copy it again from @BotFather.');
  return value;
}

const DEFAULT_API_ROOT = 'https://api.telegram.org';
const GETME_TIMEOUT_MS = 15_000;

/** Telegram turned the token down: saving it would only fail later. */
export class TokenRefused extends Error {}

/**
 * Asks the Bot API who this token belongs to (getMe). Answers the bot's
 * username, or null when Telegram could not be reached (`problem` says why);
 * throws TokenRefused when Telegram says the token is not valid.
 */
export async function checkBotToken(
  token: string,
  apiRoot: string | null,
  fetchImpl: typeof fetch = fetch,
): Promise<{ username: string } | { problem: string }> {
  const root = (apiRoot ?? DEFAULT_API_ROOT).replace(/\/+$/, '');
  const host = new URL(root).host;
  let res: Response;
  try {
    res = await fetchImpl(`${root}/bot${token}/getMe`, { signal: AbortSignal.timeout(GETME_TIMEOUT_MS) });
  } catch (err) {
    return { problem: unreachable(host, err) };
  }
  // 401 for a revoked or mistyped token; 404 for one the server cannot even parse.
  if (res.status === 401 || res.status === 404)
    throw new TokenRefused('Telegram refused this token: copy it again from @BotFather.');
  type Answer = { ok?: boolean; result?: { username?: string }; description?: string };
  const body = await readJson<Answer>(res, ANSWER_MAX_BYTES, 'getMe').catch(() => null);
  if (!res.ok || !body?.ok || !body.result?.username) {
    return { problem: `${host} answered getMe with ${res.status}${body?.description ? ` (${body.description})` : ''}` };
  }
  return { username: body.result.username };
}

function unreachable(host: string, err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError')
    return `${host} did not answer within ${GETME_TIMEOUT_MS / 1000} s: check this machine's internet connection, and any firewall or proxy in the way`;
  const code = e.cause?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `Cannot reach ${host} (${code}): check this machine's internet connection or DNS`;
  return `Cannot reach ${host}${code ? ` (${code})` : ''}: check this machine's internet connection, and any firewall or proxy in the way (or TELEGRAM_API_ROOT, if set)`;
}

/** Checks the token with Telegram and saves it unless Telegram refused it; answers what to tell the user. */
async function saveCheckedToken(
  value: string,
  env: Settings,
  saveEnv: SaveEnv,
): Promise<{ file: string; note: string }> {
  const token = checkedToken(value);
  const checked = await checkBotToken(token, telegramSettings(env).apiRoot);
  const file = saveEnv({ TELEGRAM_BOT_TOKEN: token });
  return {
    file,
    note:
      'username' in checked ? `: this is @${checked.username}` : `, but not checked with Telegram. ${checked.problem}`,
  };
}

/** The dashboard's setup form; the guided setup asks the same fields. */
const tokenForm: TokenForm = {
  fields: [{ key: 'TELEGRAM_BOT_TOKEN', label: 'Bot token from @BotFather', secret: true }],
  async save(values, { env, saveEnv }) {
    const { note } = await saveCheckedToken(values.TELEGRAM_BOT_TOKEN?.trim() ?? '', env, saveEnv);
    return `Telegram bot token saved${note}.`;
  },
};

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
      media: ctx.media,
      isOwner: telegramOwner(settings, ctx.store),
      notifyOwner: ctx.notifyOwner,
    });
  },

  auth: {
    usage: 'telegram',
    async run(ctx) {
      if (process.stdin.isTTY)
        ctx.out.write('Create a bot with @BotFather in Telegram (/newbot) and copy the token it gives you.\n');
      const value = await ctx.readSecret('Telegram bot token: ');
      if (!value) {
        ctx.err.write('Nothing entered; nothing changed.\n');
        return 2;
      }
      const { file, note } = await saveCheckedToken(value, ctx.env, ctx.saveEnv);
      ctx.out.write(`Saved${note}. The token is in ${file} (readable only by you).\n${await ctx.restartHint()}\n`);
      ctx.out.write(
        'Then message your bot; the chat appears in "nanoclaw groups list" and the dashboard, ready to register.\n',
      );
      return 0;
    },
  },

  doctor: checkTelegram,

  tokenForm,
  setup: setupByForm(tokenForm, ['Telegram bot token from @BotFather (hidden; Enter to skip)']),

  setupHint: {
    before: 'Create a bot with @BotFather, run ',
    command: 'nanoclaw auth telegram',
    after: ' and restart NanoClaw.',
  },
};
