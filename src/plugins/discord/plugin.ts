// The Discord plugin: a bot token from the Developer Portal (DISCORD_BOT_TOKEN),
// an optional API root for proxies and tests (DISCORD_API_URL; the Gateway URL
// is whatever its /gateway/bot answers), and who the owner is (DISCORD_OWNER_ID,
// or the user whose direct chat is a main chat).
import { type ChannelContext, type ChannelPlugin, type Settings } from '../../core/channels/plugin.js';
import { setupByForm, tokenCheck, type SaveEnv, type TokenForm } from '../../kit/channel-setup.js';
import { ANSWER_MAX_BYTES, readJson } from '../../kit/bounded.js';
import { discordDmJid, isDiscordDirectChat, isDiscordJid } from './jids.js';

// Three base64url parts: the bot's id, a timestamp, an HMAC.
export const DISCORD_TOKEN = /^[\w-]{2,}\.[\w-]{2,}\.[\w-]{2,}$/;
const DEFAULT_API_ROOT = 'https://discord.com/api';
const CHECK_TIMEOUT_MS = 15_000;

export interface DiscordSettings {
  token: string | null;
  apiRoot: string | null;
  /** The owner's Discord user id, when set explicitly. */
  ownerId: string | null;
}

export function discordSettings(env: Settings): DiscordSettings {
  const ownerId = env.DISCORD_OWNER_ID?.trim() || null;
  if (ownerId !== null && !/^\d{15,21}$/.test(ownerId)) {
    throw new Error(
      `DISCORD_OWNER_ID must be your numeric Discord user id (Settings → Advanced → Developer Mode, then right-click your name → Copy User ID), got "${ownerId}".`,
    );
  }
  const token = env.DISCORD_BOT_TOKEN?.trim().replace(/^Bot\s+/i, '') || null;
  return { token, apiRoot: env.DISCORD_API_URL?.trim().replace(/\/+$/, '') || null, ownerId };
}

/** The owner, by id: DISCORD_OWNER_ID, or any user whose direct chat is registered as a main chat. Never by name. */
export function discordOwner(settings: DiscordSettings, store: ChannelContext['store']): (userId: string) => boolean {
  return (userId) => userId === settings.ownerId || store.groups.get(discordDmJid(userId))?.isMain === true;
}

/**
 * Each registered Discord chat with the newest Discord message id stored for
 * it (ids are time-ordered snowflakes). Chats with none yet are left out: the
 * assistant does not read history from before it was there.
 */
export function discordCatchUpPoints(store: ChannelContext['store']): { jid: string; after: string }[] {
  return store.groups
    .list()
    .filter((g) => isDiscordJid(g.jid))
    .flatMap((g) => {
      const ids = store.messages
        .recent(g.jid, 50)
        .filter((m) => !m.fromAssistant && /^\d{15,21}$/.test(m.id))
        .map((m) => BigInt(m.id));
      return ids.length ? [{ jid: g.jid, after: ids.reduce((a, b) => (b > a ? b : a)).toString() }] : [];
    });
}

/** Discord turned the token down: saving it would only fail later. */
export class DiscordTokenRefused extends Error {}

/**
 * Asks the API who this token belongs to (GET /users/@me). Answers the bot's
 * username, or a problem when Discord could not be reached; throws
 * DiscordTokenRefused on 401.
 */
export async function checkDiscordToken(
  token: string,
  apiRoot: string | null,
  fetchImpl: typeof fetch = fetch,
): Promise<{ username: string } | { problem: string }> {
  const root = apiRoot ?? DEFAULT_API_ROOT;
  const host = new URL(root).host;
  let res: Response;
  try {
    res = await fetchImpl(`${root}/v10/users/@me`, {
      headers: { authorization: `Bot ${token}` },
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    });
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    if (e.name === 'TimeoutError')
      return { problem: `${host} did not answer within ${CHECK_TIMEOUT_MS / 1000} s: check the internet connection` };
    return {
      problem: `Cannot reach ${host}${e.cause?.code ? ` (${e.cause.code})` : ''}: check the internet connection, any proxy in the way, or DISCORD_API_URL if set`,
    };
  }
  if (res.status === 401)
    throw new DiscordTokenRefused(
      'Discord refused this token (401): copy it again from the Developer Portal (Bot → Reset Token).',
    );
  type Answer = { username?: string; bot?: boolean; message?: string };
  const body = await readJson<Answer>(res, ANSWER_MAX_BYTES, '/users/@me').catch(() => null);
  if (!res.ok || !body?.username)
    return { problem: `${host} answered /users/@me with ${res.status}${body?.message ? ` (${body.message})` : ''}` };
  if (body.bot === false)
    throw new DiscordTokenRefused(
      'That is a user account token, not a bot token: create a bot in the Developer Portal.',
    );
  return { username: body.username };
}

function checkedToken(value: string): string {
  const token = value.trim().replace(/^Bot\s+/i, '');
  if (!DISCORD_TOKEN.test(token))
    throw new Error(
      'That does not look like a Discord bot token (three parts separated by dots); copy it again from the Developer Portal.',
    );
  return token;
}

async function saveCheckedToken(
  value: string,
  env: Settings,
  saveEnv: SaveEnv,
): Promise<{ file: string; note: string }> {
  const token = checkedToken(value);
  const checked = await checkDiscordToken(token, discordSettings(env).apiRoot);
  const file = saveEnv({ DISCORD_BOT_TOKEN: token });
  return {
    file,
    note:
      'username' in checked ? `: this is ${checked.username}` : `, but not checked with Discord. ${checked.problem}`,
  };
}

const checkDiscord = tokenCheck({
  name: 'Discord',
  read: discordSettings,
  fix: 'Fix DISCORD_OWNER_ID in .env, or remove it.',
  isSet: (s) => !!s.token,
  check: (s) =>
    DISCORD_TOKEN.test(s.token!)
      ? { level: 'ok', detail: `bot token set${s.apiRoot ? `, API at ${s.apiRoot}` : ''}` }
      : {
          level: 'fail',
          detail: 'DISCORD_BOT_TOKEN does not look like a bot token (three parts separated by dots)',
          fix: 'Run "nanoclaw auth discord" and paste the token from the Developer Portal (Bot → Reset Token).',
        },
});

/** The dashboard's setup form; the guided setup asks the same fields. */
const tokenForm: TokenForm = {
  fields: [{ key: 'DISCORD_BOT_TOKEN', label: 'Bot token from the Developer Portal', secret: true }],
  async save(values, { env, saveEnv }) {
    const { note } = await saveCheckedToken(values.DISCORD_BOT_TOKEN?.trim() ?? '', env, saveEnv);
    return `Discord bot token saved${note}.`;
  },
};

export const discordPlugin: ChannelPlugin = {
  name: 'discord',
  label: 'Discord',
  ownsJid: isDiscordJid,
  isDirectChat: isDiscordDirectChat,
  configured: ({ env }) => !!discordSettings(env).token,

  async start(ctx) {
    const settings = discordSettings(ctx.config.env);
    // discord.js loads only when Discord is configured, to keep an idle host small.
    const { createDiscordChannel } = await import('./discord.js');
    return createDiscordChannel({
      token: settings.token ?? '',
      apiRoot: settings.apiRoot ?? undefined,
      assistantName: ctx.config.assistantName,
      logger: ctx.logger,
      media: ctx.media,
      isOwner: discordOwner(settings, ctx.store),
      notifyOwner: ctx.notifyOwner,
      catchUpFrom: () => discordCatchUpPoints(ctx.store),
    });
  },

  auth: {
    usage: 'discord',
    async run(ctx) {
      if (process.stdin.isTTY)
        ctx.out.write(
          'Create an application at https://discord.com/developers/applications, add a bot, turn on "Message Content Intent", and copy its token.\n',
        );
      const value = await ctx.readSecret('Discord bot token: ');
      if (!value) {
        ctx.err.write('Nothing entered; nothing changed.\n');
        return 2;
      }
      try {
        const { file, note } = await saveCheckedToken(value, ctx.env, ctx.saveEnv);
        ctx.out.write(`Saved${note}. The token is in ${file} (readable only by you).\n${await ctx.restartHint()}\n`);
      } catch (err) {
        ctx.err.write(`${(err as Error).message} Nothing changed.\n`);
        return 1;
      }
      ctx.out.write(
        'Invite the bot to your server (OAuth2 → URL Generator, scope "bot"), then message it; the chat appears in "nanoclaw groups list" and the dashboard, ready to register.\n',
      );
      return 0;
    },
  },

  doctor: checkDiscord,

  tokenForm,
  setup: setupByForm(tokenForm, ['Discord bot token from the Developer Portal (hidden; Enter to skip)']),

  setupHint: {
    before: 'Create a bot in the Discord Developer Portal (with Message Content Intent), run ',
    command: 'nanoclaw auth discord',
    after: ' and restart NanoClaw.',
  },
};
