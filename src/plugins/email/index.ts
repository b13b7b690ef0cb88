// Email: the assistant searches, reads, drafts and (after the owner's yes) sends the owner's mail, over
// IMAP and SMTP with an app password or an OAuth token. The account lives in the home's .env and is only
// used here, on the host; the agent reaches it through the email_* tools. Mail is someone else's words,
// shown to the model as external content. With EMAIL_CHAT_FROM set, mail from those senders is also a chat.
import type { ChannelContext, ChannelPlugin, PluginEnv } from '../../core/channels/plugin.js';
import type { Plugin } from '../../core/plugin.js';
import type { Channel } from '../../core/types.js';
import { modeFor } from '../../core/ask.js';
import { checkLogin, type LoginProblem } from './account.js';
import { sentRecipients } from './mailbox.js';
import { createEmailChat, EMAIL_JID } from './chat.js';
import { AUTH_USAGE, emailForm, runEmailAuth } from './connect.js';
import { chatSenders, emailChats, emailConfigured, emailSettings, type EmailSettings } from './settings.js';
import { emailStore, migrations } from './store.js';
import { createEmailTools, NOT_SET_UP } from './tools.js';

/** Mail that is not a chat (EMAIL_CHAT_FROM unset, or a setting wrong): the tools still work; status says why. */
function toolsOnly(detail: string, ok: boolean): Channel {
  return {
    name: 'email',
    sharesUserAccount: false,
    ownsJid: (jid) => jid.startsWith(EMAIL_JID),
    isConnected: () => ok,
    connect: async (ev) => ev.onState?.({ connected: ok, detail }),
    sendMessage: async () => {
      throw new Error(`Email is not a chat here: ${detail}`);
    },
    disconnect: async () => {},
  };
}

async function startChat(ctx: ChannelContext): Promise<Channel> {
  let settings: EmailSettings;
  let senders: ReturnType<typeof chatSenders>;
  try {
    settings = emailSettings(ctx.config.env);
    senders = chatSenders(ctx.config.env);
  } catch (err) {
    return toolsOnly(`The email settings are wrong: ${(err as Error).message}`, false);
  }
  if (!senders) return toolsOnly('tools only: set EMAIL_CHAT_FROM to make mail a chat', true);
  return createEmailChat(ctx, settings, senders);
}

/** Where `nanoclaw auth email` and the dashboard's form find the account's setup, and the inbox as a chat. */
const emailChannel: ChannelPlugin = {
  name: 'email',
  label: 'Email',
  ownsJid: (jid) => jid.startsWith(EMAIL_JID),
  isDirectChat: () => true,
  configured: ({ env }: PluginEnv) => emailConfigured(env),
  start: startChat,
  auth: { usage: AUTH_USAGE, run: (ctx) => runEmailAuth(ctx) },
  tokenForm: emailForm,
  setupHint: {
    before: 'Make an app password with your mail provider (Gmail, Fastmail, iCloud…), run ',
    command: 'nanoclaw auth email',
    after: ' and restart NanoClaw.',
  },
};

type Login =
  | { state: 'not set up' }
  | { state: 'checking' }
  | { state: 'ok'; at: string }
  | ({ state: 'failing'; at: string } & LoginProblem);

declare module '../../core/types.js' {
  interface ApprovalKinds {
    email_send: true;
    email_new_recipient: true;
    email_forward: true;
  }
}

export const email: Plugin = {
  name: 'email',
  // Mail leaves in the owner's name and cannot be taken back.
  approvalKinds: {
    email_send: { mode: 'ask', words: 'send an email from your account' },
    // Asked even where sending is allowed: a mail to a stranger is how a hijacked agent leaks.
    email_new_recipient: { mode: 'ask', words: 'send an email to someone you have never written to' },
    email_forward: { mode: 'ask', words: 'forward an email from your mailbox' },
  },
  channel: emailChannel,
  store: emailStore,
  migrations,
  setup({ config, logger, store, media }) {
    const log = logger.child({ plugin: 'email' });
    let settings: EmailSettings | { problem: string };
    let chats: ReadonlySet<string> = new Set();
    if (!emailConfigured(config.env)) settings = { problem: NOT_SET_UP };
    else {
      try {
        settings = emailSettings(config.env);
        chats = emailChats(config.env);
      } catch (err) {
        settings = { problem: `The email settings are wrong: ${(err as Error).message}` };
      }
    }
    let login: Login = 'problem' in settings ? { state: 'not set up' } : { state: 'checking' };
    const noteLogin = (p: LoginProblem | null) => {
      const at = new Date().toISOString();
      login = p ? { state: 'failing', at, ...p } : { state: 'ok', at };
    };
    let checking: Promise<void> | null = null;
    return {
      tools: createEmailTools({
        settings: () => settings,
        noteLogin,
        drafts: store.emailDrafts,
        files: media,
        chats: () => chats,
        recipients: store.emailRecipients,
        modeOf: (identity, kind) => modeFor(store.groups.get(identity.chatJid) ?? { sandbox: {} }, kind),
      }),
      status: () => ({
        email:
          'problem' in settings
            ? { configured: false, ...(emailConfigured(config.env) ? { problem: settings.problem } : {}) }
            : { configured: true, address: settings.address, login },
      }),
      start() {
        if ('problem' in settings) return;
        const s = settings;
        // Known at once in `status`, without holding up the start: a failing login is reported, not fatal.
        checking = checkLogin(s).then(async (p) => {
          noteLogin(p);
          if (p) return log.warn({ problem: p.problem }, 'email account does not log in');
          // Whom the owner has written to, from Sent: a mail to anyone else asks first.
          await sentRecipients(s).then(
            (list) => store.emailRecipients.add(list),
            (err) => log.warn({ err: (err as Error).message }, 'could not read the Sent folder'),
          );
        });
      },
      async stop() {
        await checking;
      },
    };
  },
};
