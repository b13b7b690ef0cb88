// The Signal plugin: a signal-cli daemon the user runs themself
// (`signal-cli -a +NUMBER daemon --http 127.0.0.1:8080`), found at SIGNAL_CLI_URL,
// serving SIGNAL_ACCOUNT. SIGNAL_OWNER is the owner's own number when the
// account is the assistant's own; without it the account is taken to be the
// user's (signal-cli linked to their phone) and Note to Self is a main chat.
import path from 'node:path';
import { type ChannelContext, type ChannelPlugin, type Settings } from '../../core/channels/plugin.js';
import { setupByForm, tokenCheck, type SaveEnv, type TokenForm } from '../../kit/channel-setup.js';
import { isSignalDirectChat, isSignalJid, signalDirectJid } from './jids.js';
import { createSignalRpc, DAEMON_COMMAND, SignalRpcError } from './rpc.js';

const NUMBER = /^\+[1-9]\d{6,14}$/;

export interface SignalSettings {
  url: string | null;
  account: string | null;
  owner: string | null;
}

export function signalSettings(env: Settings): SignalSettings {
  const account = env.SIGNAL_ACCOUNT?.trim() || null;
  const owner = env.SIGNAL_OWNER?.trim() || null;
  if (account !== null && !NUMBER.test(account))
    throw new Error(
      `SIGNAL_ACCOUNT must be the number signal-cli serves, with country code (e.g. +15551234567), got "${account}".`,
    );
  if (owner !== null && !NUMBER.test(owner))
    throw new Error(
      `SIGNAL_OWNER must be your own Signal number, with country code (e.g. +15551234567), got "${owner}".`,
    );
  return { url: env.SIGNAL_CLI_URL?.trim().replace(/\/+$/, '') || null, account, owner };
}

/** The account is the user's own unless SIGNAL_OWNER names someone else. */
export function sharesUserAccount(s: SignalSettings): boolean {
  return !s.owner || s.owner === s.account;
}

/** The owner, by number: SIGNAL_OWNER, or anyone whose direct chat is a main chat. Never by name. */
export function signalOwner(s: SignalSettings, store: ChannelContext['store']): (number: string) => boolean {
  return (number) => number === s.owner || store.groups.get(signalDirectJid(number))?.isMain === true;
}

/**
 * Asks the daemon at `url` whether it runs and serves `account`. Answers what
 * to tell the user; throws when the daemon cannot be used as it is.
 */
export async function checkSignalDaemon(
  url: string,
  account: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const rpc = createSignalRpc(url, fetchImpl);
  let version: string;
  try {
    version = (await rpc.call<{ version?: string }>('version', undefined, 10_000))?.version ?? 'unknown';
  } catch (err) {
    throw new Error(`${(err as Error).message}. Start the daemon with "${DAEMON_COMMAND(account)}", then try again.`);
  }
  try {
    const accounts = await rpc.call<{ number?: string }[]>('listAccounts', undefined, 10_000);
    if (Array.isArray(accounts) && !accounts.some((a) => a.number === account)) {
      const served =
        accounts
          .map((a) => a.number)
          .filter(Boolean)
          .join(', ') || 'none';
      throw new Error(
        `signal-cli at ${url} does not serve ${account} (it has: ${served}). Register or link it with signal-cli, then run "${DAEMON_COMMAND(account)}".`,
      );
    }
  } catch (err) {
    // A daemon started with -a serves one account and may not offer listAccounts: then version is what we can check.
    if (!(err instanceof SignalRpcError)) throw err;
  }
  return `signal-cli ${version} answers at ${url}`;
}

const checkSignal = tokenCheck({
  name: 'Signal',
  read: signalSettings,
  fix: 'Fix it in .env, or run "nanoclaw auth signal".',
  isSet: (s) => !!s.url || !!s.account,
  check: (s, { config }) =>
    s.url && s.account
      ? {
          level: 'ok',
          detail: `${s.account} via ${s.url}, ${
            sharesUserAccount(s)
              ? `your own account (replies say "${config.assistantName}:"; Note to Self is a main chat)`
              : `owner ${s.owner}`
          }`,
          notes: [`The daemon must be running: ${DAEMON_COMMAND(s.account)}`],
        }
      : {
          level: 'fail',
          detail: `${s.url ? 'SIGNAL_ACCOUNT' : 'SIGNAL_CLI_URL'} is missing`,
          fix: 'Run "nanoclaw auth signal" to set both the daemon address and the account.',
        },
});

async function saveChecked(url: string, account: string, saveEnv: SaveEnv): Promise<{ file: string; note: string }> {
  if (!/^https?:\/\/[^\s/]+/.test(url)) throw new Error(`"${url}" is not an address like http://127.0.0.1:8080.`);
  if (!NUMBER.test(account))
    throw new Error(`"${account}" is not a phone number with country code, like +15551234567.`);
  const note = await checkSignalDaemon(url, account);
  return { file: saveEnv({ SIGNAL_CLI_URL: url.replace(/\/+$/, ''), SIGNAL_ACCOUNT: account }), note };
}

/** The dashboard's setup form; the guided setup asks the same fields. */
const tokenForm: TokenForm = {
  fields: [
    { key: 'SIGNAL_CLI_URL', label: 'signal-cli daemon address (http://127.0.0.1:8080)' },
    { key: 'SIGNAL_ACCOUNT', label: 'The number it serves (+15551234567)' },
  ],
  async save(values, { saveEnv }) {
    const { note } = await saveChecked(
      values.SIGNAL_CLI_URL?.trim() ?? '',
      values.SIGNAL_ACCOUNT?.trim() ?? '',
      saveEnv,
    );
    return `Signal saved: ${note}.`;
  },
};

export const signalPlugin: ChannelPlugin = {
  name: 'signal',
  label: 'Signal',
  ownsJid: isSignalJid,
  isDirectChat: isSignalDirectChat,
  configured: ({ env }) => {
    try {
      const s = signalSettings(env);
      return !!s.url && !!s.account;
    } catch {
      return false;
    }
  },

  async start(ctx) {
    const s = signalSettings(ctx.config.env);
    const { createSignalChannel } = await import('./signal.js');
    return createSignalChannel({
      url: s.url ?? '',
      account: s.account ?? '',
      sharesUserAccount: sharesUserAccount(s),
      assistantName: ctx.config.assistantName,
      logger: ctx.logger,
      media: ctx.media,
      isOwner: signalOwner(s, ctx.store),
      cursorFile: path.join(ctx.paths.data, 'signal-last-event-id'),
      notifyOwner: ctx.notifyOwner,
    });
  },

  auth: {
    usage: 'signal [<daemon url> <+account number>]',
    async run(ctx) {
      let [url, account] = ctx.args;
      if (!url || !account) {
        const ask = ctx.prompter();
        try {
          ctx.out.write(`NanoClaw talks to a signal-cli daemon you run, e.g. "${DAEMON_COMMAND('')}".\n`);
          url ||=
            (await ask.ask('signal-cli daemon address [http://127.0.0.1:8080]: ')).trim() || 'http://127.0.0.1:8080';
          account ||= (await ask.ask('Signal number it serves (+15551234567): ')).trim();
        } finally {
          ask.close();
        }
      }
      if (!account) {
        ctx.err.write('No number entered; nothing changed.\n');
        return 2;
      }
      try {
        const { file, note } = await saveChecked(url, account, ctx.saveEnv);
        ctx.out.write(`Saved: ${note}. The settings are in ${file}.\n${await ctx.restartHint()}\n`);
        ctx.out.write(
          'Then message that number; the chat appears in "nanoclaw groups list" and the dashboard, ready to register.\n',
        );
        return 0;
      } catch (err) {
        ctx.err.write(`${(err as Error).message}\nNothing changed.\n`);
        return 1;
      }
    },
  },

  doctor: checkSignal,

  tokenForm,
  setup: setupByForm(tokenForm, [
    'signal-cli daemon address, e.g. http://127.0.0.1:8080 (Enter to skip)',
    'Signal number it serves (+15551234567)',
  ]),

  setupHint: {
    before: 'Run signal-cli as a daemon (signal-cli -a +NUMBER daemon --http 127.0.0.1:8080), then ',
    command: 'nanoclaw auth signal',
    after: ' and restart NanoClaw.',
  },
};
