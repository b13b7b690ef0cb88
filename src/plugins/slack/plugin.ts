// The Slack plugin: a Slack app's bot token (SLACK_BOT_TOKEN, xoxb-…) and its
// app-level token for Socket Mode (SLACK_APP_TOKEN, xapp-…), so no public URL
// is needed. Without an app token, the Events API over HTTP on 127.0.0.1
// (SLACK_SIGNING_SECRET, SLACK_EVENTS_PORT), for a local server or a proxy.
// SLACK_API_URL points the Web API elsewhere. The owner is SLACK_OWNER_ID, or
// the person in a direct chat registered as a main chat: by id, never by name.
import { ANSWER_MAX_BYTES, readJson } from '../../kit/bounded.js';
import { type ChannelContext, type ChannelPlugin, type PluginEnv, type Settings } from '../../core/channels/plugin.js';
import { setupByForm, type CheckResult, type SaveEnv, type TokenForm } from '../../kit/channel-setup.js';
import { isSlackDirectChat, slackChannelId } from './ids.js';

export const SLACK_BOT_TOKEN = /^xoxb-[A-Za-z0-9-]{10,}$/;
export const SLACK_APP_TOKEN = /^xapp-[A-Za-z0-9-]{10,}$/;
const DEFAULT_API_URL = 'https://slack.com/api/';

export interface SlackSettings {
  botToken: string | null;
  appToken: string | null;
  signingSecret: string | null;
  apiUrl: string | null;
  eventsPort: number;
  ownerId: string | null;
}

export function slackSettings(env: Settings): SlackSettings {
  const ownerId = env.SLACK_OWNER_ID?.trim() || null;
  if (ownerId !== null && !/^[UW][A-Z0-9]{2,}$/.test(ownerId))
    throw new Error(
      `SLACK_OWNER_ID must be your Slack member id (U…, from your profile's "Copy member ID"), got "${ownerId}".`,
    );
  const port = env.SLACK_EVENTS_PORT?.trim() || '3000';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535)
    throw new Error(`SLACK_EVENTS_PORT must be a port number, got "${port}".`);
  return {
    botToken: env.SLACK_BOT_TOKEN?.trim() || null,
    appToken: env.SLACK_APP_TOKEN?.trim() || null,
    signingSecret: env.SLACK_SIGNING_SECRET?.trim() || null,
    apiUrl: env.SLACK_API_URL?.trim() || null,
    eventsPort: Number(port),
    ownerId,
  };
}

/**
 * The owner, by id: SLACK_OWNER_ID, or the person who writes in a direct chat
 * registered as a main chat (a DM has one person besides the bot).
 */
export function slackOwner(
  settings: SlackSettings,
  store: ChannelContext['store'],
): (userId: string, chatJid: string) => boolean {
  const dmUser = new Map<string, string>();
  return (userId, chatJid) => {
    if (isSlackDirectChat(chatJid)) dmUser.set(chatJid, userId);
    if (userId === settings.ownerId) return true;
    for (const [jid, user] of dmUser) if (user === userId && store.groups.get(jid)?.isMain === true) return true;
    return false;
  };
}

/** Slack turned a token down: saving it would only fail later. */
export class SlackTokenRefused extends Error {}

/** auth.test with the bot token: the bot and workspace names, or why it could not be checked. */
export async function checkSlackBotToken(
  token: string,
  apiUrl: string | null,
  fetchImpl: typeof fetch = fetch,
): Promise<{ bot: string; team: string } | { problem: string }> {
  const base = (apiUrl ?? DEFAULT_API_URL).replace(/\/*$/, '/');
  const host = new URL(base).host;
  let res: Response;
  try {
    res = await fetchImpl(`${base}auth.test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const e = err as { cause?: { code?: string; errors?: { code?: string }[] }; name?: string; message?: string };
    const code =
      e.name === 'TimeoutError' ? 'no answer in 15 s' : (e.cause?.code ?? e.cause?.errors?.[0]?.code ?? e.message);
    return {
      problem: `Cannot reach ${host} (${code}): check this machine's internet connection (or SLACK_API_URL, if set)`,
    };
  }
  type Answer = { ok?: boolean; error?: string; user?: string; team?: string };
  const body = await readJson<Answer>(res, ANSWER_MAX_BYTES, 'auth.test').catch(() => null);
  if (body?.ok) return { bot: body.user ?? '?', team: body.team ?? '?' };
  if (
    body?.error &&
    ['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired'].includes(body.error)
  )
    throw new SlackTokenRefused(`Slack refused this bot token (${body.error}): copy the Bot User OAuth Token again.`);
  return { problem: `${host} answered auth.test with ${res.status}${body?.error ? ` (${body.error})` : ''}` };
}

/** Picks the bot and app tokens out of what was typed or piped (in any order, on one line or two). */
export function parseSlackTokens(input: string): { botToken?: string; appToken?: string } {
  const words = input.split(/\s+/).filter(Boolean);
  return { botToken: words.find((w) => w.startsWith('xoxb-')), appToken: words.find((w) => w.startsWith('xapp-')) };
}

function checkedTokens(t: { botToken?: string; appToken?: string }): { botToken: string; appToken: string } {
  if (!t.botToken || !SLACK_BOT_TOKEN.test(t.botToken))
    throw new Error(
      'That does not look like a Slack bot token (xoxb-…): copy the Bot User OAuth Token from "OAuth & Permissions".',
    );
  if (!t.appToken || !SLACK_APP_TOKEN.test(t.appToken))
    throw new Error(
      'That does not look like a Slack app-level token (xapp-…): create one under "Basic Information → App-Level Tokens" with connections:write.',
    );
  return { botToken: t.botToken, appToken: t.appToken };
}

async function saveCheckedTokens(
  t: { botToken?: string; appToken?: string },
  env: Settings,
  saveEnv: SaveEnv,
): Promise<{ file: string; note: string }> {
  const tokens = checkedTokens(t);
  const checked = await checkSlackBotToken(tokens.botToken, slackSettings(env).apiUrl);
  const file = saveEnv({ SLACK_BOT_TOKEN: tokens.botToken, SLACK_APP_TOKEN: tokens.appToken });
  return {
    file,
    note:
      'bot' in checked
        ? `: this is @${checked.bot} in ${checked.team}`
        : `, but not checked with Slack. ${checked.problem}`,
  };
}

function checkSlack({ env }: PluginEnv): CheckResult[] {
  let s: SlackSettings;
  try {
    s = slackSettings(env);
  } catch (err) {
    return [{ name: 'Slack', level: 'fail', detail: (err as Error).message, fix: 'Fix it in .env, or remove it.' }];
  }
  if (!s.botToken) return [{ name: 'Slack', level: 'info', detail: 'not set up (optional): "nanoclaw auth slack"' }];
  if (!SLACK_BOT_TOKEN.test(s.botToken))
    return [
      {
        name: 'Slack',
        level: 'fail',
        detail: 'SLACK_BOT_TOKEN does not look like a bot token (xoxb-…)',
        fix: 'Run "nanoclaw auth slack" with the Bot User OAuth Token.',
      },
    ];
  if (s.appToken && !SLACK_APP_TOKEN.test(s.appToken))
    return [
      {
        name: 'Slack',
        level: 'fail',
        detail: 'SLACK_APP_TOKEN does not look like an app-level token (xapp-…)',
        fix: 'Run "nanoclaw auth slack" with an app-level token that has connections:write.',
      },
    ];
  if (s.appToken) return [{ name: 'Slack', level: 'ok', detail: 'bot token and app token set (Socket Mode)' }];
  if (s.signingSecret)
    return [
      {
        name: 'Slack',
        level: 'ok',
        detail: `bot token set; Events API on 127.0.0.1:${s.eventsPort}/slack/events (signed)`,
      },
    ];
  return [
    {
      name: 'Slack',
      level: 'fail',
      detail: 'SLACK_BOT_TOKEN is set but there is no way to receive events',
      fix: 'Run "nanoclaw auth slack" to add an app-level token (Socket Mode), or set SLACK_SIGNING_SECRET for an Events API URL.',
    },
  ];
}

/** The dashboard's setup form; the guided setup asks the same fields. */
const tokenForm: TokenForm = {
  fields: [
    { key: 'SLACK_BOT_TOKEN', label: 'Bot token (xoxb-…)', secret: true },
    { key: 'SLACK_APP_TOKEN', label: 'App-level token (xapp-…, Socket Mode)', secret: true },
  ],
  async save(values, { env, saveEnv }) {
    const tokens = { botToken: values.SLACK_BOT_TOKEN?.trim(), appToken: values.SLACK_APP_TOKEN?.trim() };
    const { note } = await saveCheckedTokens(tokens, env, saveEnv);
    return `Slack tokens saved${note}.`;
  },
};

export const slackPlugin: ChannelPlugin = {
  name: 'slack',
  label: 'Slack',
  ownsJid: (jid) => slackChannelId(jid) !== null,
  isDirectChat: isSlackDirectChat,
  configured: ({ env }) => !!env.SLACK_BOT_TOKEN?.trim(),

  async start(ctx) {
    const s = slackSettings(ctx.config.env);
    // Bolt loads only when Slack is configured, to keep an idle host small.
    const { createSlackChannel } = await import('./slack.js');
    return createSlackChannel({
      botToken: s.botToken ?? '',
      appToken: s.appToken,
      signingSecret: s.signingSecret,
      eventsPort: s.eventsPort,
      apiUrl: s.apiUrl,
      assistantName: ctx.config.assistantName,
      logger: ctx.logger,
      media: ctx.media,
      isOwner: slackOwner(s, ctx.store),
      notifyOwner: ctx.notifyOwner,
    });
  },

  auth: {
    usage: 'slack',
    async run(ctx) {
      if (process.stdin.isTTY)
        ctx.out.write(
          'Create a Slack app from the manifest in the README (api.slack.com/apps → Create New App → From a manifest),\n' +
            'install it to your workspace, then copy the Bot User OAuth Token (xoxb-…) and an app-level token (xapp-…, connections:write).\n',
        );
      const first = parseSlackTokens(await ctx.readSecret('Slack bot token (xoxb-…): '));
      // Piped input carries both tokens at once; on a terminal each is asked for.
      const tokens =
        first.appToken || !process.stdin.isTTY
          ? first
          : { ...first, ...parseSlackTokens(await ctx.readSecret('Slack app-level token (xapp-…): ')) };
      if (!tokens.botToken && !tokens.appToken) {
        ctx.err.write('Nothing entered; nothing changed.\n');
        return 2;
      }
      try {
        const { file, note } = await saveCheckedTokens(tokens, ctx.env, ctx.saveEnv);
        ctx.out.write(`Saved${note}. The tokens are in ${file} (readable only by you).\n${await ctx.restartHint()}\n`);
        ctx.out.write(
          'Then message the app (or invite it to a channel); the chat appears in "nanoclaw groups list" and the dashboard, ready to register.\n',
        );
        return 0;
      } catch (err) {
        ctx.err.write(`${(err as Error).message} Nothing changed.\n`);
        return 1;
      }
    },
  },

  doctor: checkSlack,

  tokenForm,
  setup: setupByForm(tokenForm, [
    'Slack bot token, xoxb-… (hidden; Enter to skip)',
    'Slack app-level token, xapp-… (hidden)',
  ]),

  setupHint: {
    before: 'Create a Slack app from the manifest in the README (Socket Mode), run ',
    command: 'nanoclaw auth slack',
    after: ' and restart NanoClaw.',
  },
};
