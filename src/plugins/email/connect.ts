// Connecting an account: `nanoclaw auth email`, the dashboard's form and `nanoclaw doctor`. The login is
// checked against both servers before anything is saved, so a wrong password never reaches .env.
import type { PluginEnv, Settings } from '../../core/channels/plugin.js';
import type { AuthContext, CheckResult, SaveEnv, TokenForm } from '../../kit/channel-setup.js';
import { checkLogin } from './account.js';
import { emailConfigured, emailSettings, envLines, providerOf, type EmailSettings } from './settings.js';

export const AUTH_USAGE =
  'email [--address you@example.com] [--imap-host H] [--imap-port N] [--smtp-host H] [--smtp-port N] [--user U] [--oauth] (the password, or token with --oauth, on stdin or asked)';

/** Checks the account with both servers, then saves it; throws with the problem and its fix. */
export async function saveCheckedAccount(
  values: Settings,
  saveEnv: SaveEnv,
): Promise<{ file: string; s: EmailSettings }> {
  const s = emailSettings(values);
  const problem = await checkLogin(s);
  if (problem) throw new Error(`${problem.problem} ${problem.fix} Nothing was saved.`);
  return { file: saveEnv(envLines(s)), s };
}

const OPTIONS: [option: string, key: string, question: string][] = [
  ['imap-host', 'EMAIL_IMAP_HOST', 'IMAP server'],
  ['imap-port', 'EMAIL_IMAP_PORT', 'IMAP port'],
  ['smtp-host', 'EMAIL_SMTP_HOST', 'SMTP server'],
  ['smtp-port', 'EMAIL_SMTP_PORT', 'SMTP port'],
  ['user', 'EMAIL_USER', 'Login name'],
  ['tls', 'EMAIL_TLS', 'TLS (on/off)'],
];

export async function runEmailAuth(ctx: AuthContext & { interactive?: boolean }): Promise<number> {
  const interactive = ctx.interactive ?? !!process.stdin.isTTY;
  const values: Record<string, string | undefined> = { ...ctx.env };
  const address = ctx.option('--address') ?? ctx.env.EMAIL_ADDRESS;
  const ask = interactive ? ctx.prompter() : null;
  try {
    values.EMAIL_ADDRESS = address ?? (ask ? (await ask.ask('Email address: ')).trim() : undefined);
    if (!values.EMAIL_ADDRESS) {
      ctx.err.write(`Give the address: nanoclaw auth ${AUTH_USAGE}\n`);
      return 2;
    }
    const provider = providerOf(values.EMAIL_ADDRESS);
    for (const [option, key, question] of OPTIONS) {
      const given = ctx.option(`--${option}`);
      if (given !== undefined) values[key] = given;
      else if (ask && !provider && ['EMAIL_IMAP_HOST', 'EMAIL_SMTP_HOST'].includes(key) && !values[key])
        values[key] = (await ask.ask(`${question}: `)).trim() || undefined;
    }
  } finally {
    ask?.close();
  }
  const oauth = ctx.args.includes('--oauth');
  const provider = providerOf(values.EMAIL_ADDRESS);
  if (provider) ctx.out.write(`Use ${provider.help}.\n`);
  const secret = await ctx.readSecret(oauth ? 'OAuth access token: ' : 'App password: ');
  if (!secret) {
    ctx.err.write('Nothing entered; nothing changed.\n');
    return 2;
  }
  values.EMAIL_PASSWORD = oauth ? undefined : secret;
  values.EMAIL_OAUTH_TOKEN = oauth ? secret : undefined;
  ctx.out.write('Checking the login with the IMAP and SMTP servers…\n');
  try {
    const { file, s } = await saveCheckedAccount(values, ctx.saveEnv);
    ctx.out.write(
      `${s.address} logs in to IMAP (${s.imap.host}:${s.imap.port}) and SMTP (${s.smtp.host}:${s.smtp.port}). Saved to ${file} (readable only by you).\n${await ctx.restartHint()}\n`,
    );
    return 0;
  } catch (err) {
    ctx.err.write(`${(err as Error).message}\n`);
    return 1;
  }
}

/** The dashboard's Channels page form: the same check and save as `nanoclaw auth email`. */
export const emailForm: TokenForm = {
  fields: [
    { key: 'EMAIL_ADDRESS', label: 'Email address' },
    { key: 'EMAIL_IMAP_HOST', label: 'IMAP server (blank for Gmail, Fastmail, iCloud, Outlook)' },
    { key: 'EMAIL_IMAP_PORT', label: 'IMAP port (blank: 993)' },
    { key: 'EMAIL_SMTP_HOST', label: 'SMTP server (blank for Gmail, Fastmail, iCloud, Outlook)' },
    { key: 'EMAIL_SMTP_PORT', label: 'SMTP port (blank: 465)' },
    { key: 'EMAIL_PASSWORD', label: 'App password', secret: true },
  ],
  async save(values, { env, saveEnv }) {
    const typed = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim()));
    const { s } = await saveCheckedAccount({ ...env, EMAIL_OAUTH_TOKEN: undefined, ...typed }, saveEnv);
    return `${s.address} logs in; restart NanoClaw for the mail tools to use it.`;
  },
};

/** `nanoclaw doctor`'s line: whether the account logs in, and the fix when it does not. */
export async function checkEmail({ env }: Pick<PluginEnv, 'env'>): Promise<CheckResult> {
  if (!emailConfigured(env))
    return { name: 'Email', level: 'info', detail: 'not set up (optional): "nanoclaw auth email"' };
  let s: EmailSettings;
  try {
    s = emailSettings(env);
  } catch (err) {
    return {
      name: 'Email',
      level: 'fail',
      detail: (err as Error).message,
      fix: 'Fix it in .env, or run "nanoclaw auth email".',
    };
  }
  const problem = await checkLogin(s);
  return problem
    ? { name: 'Email', level: 'fail', detail: problem.problem, fix: problem.fix }
    : { name: 'Email', level: 'ok', detail: `${s.address} logs in (IMAP ${s.imap.host}, SMTP ${s.smtp.host})` };
}
