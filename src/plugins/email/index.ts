// Email: the assistant searches, reads, drafts and (after the owner's yes) sends the owner's mail, over
// IMAP and SMTP with an app password or an OAuth token. The account lives in the home's .env and is only
// used here, on the host; the agent reaches it through the email_* tools. Mail is someone else's words,
// shown to the model as external content. (Email as a chat of its own, over IMAP IDLE, is not built yet.)
import type { ChannelPlugin, PluginEnv } from '../../core/channels/plugin.js';
import type { Plugin } from '../../core/plugin.js';
import { checkLogin, type LoginProblem } from './account.js';
import { AUTH_USAGE, emailForm, runEmailAuth } from './connect.js';
import { emailConfigured, emailSettings, type EmailSettings } from './settings.js';
import { emailStore, migrations } from './store.js';
import { createEmailTools, NOT_SET_UP } from './tools.js';

/** No channel yet: this is where `nanoclaw auth email` and the dashboard's form find the account's setup. */
const emailChannel: ChannelPlugin = {
  name: 'email',
  label: 'Email',
  ownsJid: (jid) => jid.startsWith('email:'),
  isDirectChat: () => true,
  configured: ({ env }: PluginEnv) => emailConfigured(env),
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

export const email: Plugin = {
  name: 'email',
  channel: emailChannel,
  store: emailStore,
  migrations,
  setup({ config, logger, store }) {
    const log = logger.child({ plugin: 'email' });
    let settings: EmailSettings | { problem: string };
    if (!emailConfigured(config.env)) settings = { problem: NOT_SET_UP };
    else {
      try {
        settings = emailSettings(config.env);
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
      tools: createEmailTools({ settings: () => settings, noteLogin, drafts: store.emailDrafts }),
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
        checking = checkLogin(s).then((p) => {
          noteLogin(p);
          if (p) log.warn({ problem: p.problem }, 'email account does not log in');
        });
      },
      async stop() {
        await checking;
      },
    };
  },
};
