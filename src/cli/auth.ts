// `nanoclaw auth claude|telegram|whatsapp`: store a credential in the home's
// .env (mode 0600), or link WhatsApp by QR code / pairing code. Secrets are
// read without echo on a terminal, or from stdin when piped; never printed.
import path from 'node:path';
import type { Config } from '../config/config.js';
import { homePaths } from '../config/home.js';
import { createLogger } from '../logger.js';
import { openStore } from '../store/index.js';
import { identityQueries } from '../store/identities.js';
import { whatsappAuthDir } from '../channels/registry.js';
import { createWhatsAppChannel } from '../channels/whatsapp/whatsapp.js';
import { setEnvValues } from './env-file.js';
import { fetchStatus } from './status.js';
import { option, prompter, readStdin } from './term.js';

export const TELEGRAM_TOKEN = /^\d{5,}:[A-Za-z0-9_-]{30,}$/;

/** Where a Claude credential goes: OAuth tokens and API keys use different variables. */
export function claudeCredentialVariable(value: string): 'ANTHROPIC_API_KEY' | 'CLAUDE_CODE_OAUTH_TOKEN' | null {
  if (/\s/.test(value) || value.length < 20) return null;
  if (value.startsWith('sk-ant-oat')) return 'CLAUDE_CODE_OAUTH_TOKEN';
  if (value.startsWith('sk-ant-') || value.length >= 32) return 'ANTHROPIC_API_KEY';
  return null;
}

export function saveClaudeCredential(home: string, value: string): { file: string; variable: string } {
  const variable = claudeCredentialVariable(value);
  if (!variable) throw new Error('That does not look like an Anthropic API key (sk-ant-api…) or a Claude OAuth token (sk-ant-oat…, from "claude setup-token").');
  // Only one credential at a time: the config prefers the API key, so a stale one would win.
  const other = variable === 'ANTHROPIC_API_KEY' ? 'CLAUDE_CODE_OAUTH_TOKEN' : 'ANTHROPIC_API_KEY';
  return { file: setEnvValues(home, { [variable]: value, [other]: null }), variable };
}

export function saveTelegramToken(home: string, value: string): { file: string } {
  if (!TELEGRAM_TOKEN.test(value)) throw new Error('That does not look like a Telegram bot token (123456789:AA…); copy it again from @BotFather.');
  return { file: setEnvValues(home, { TELEGRAM_BOT_TOKEN: value }) };
}

async function readSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY) return (await readStdin()).trim();
  const ask = prompter();
  try { return await ask.secret(question); } finally { ask.close(); }
}

/**
 * Links WhatsApp in this process: shows the QR code (or a pairing code for
 * `phone`) on the terminal and waits until the phone has linked. The running
 * host picks the new credentials up from store/auth/whatsapp.
 */
export async function linkWhatsApp(config: Config, opts: { phone?: string; timeoutMs?: number; out?: NodeJS.WriteStream } = {}): Promise<void> {
  const out = opts.out ?? process.stdout;
  const paths = homePaths(config.home);
  const store = openStore(paths.db);
  const logger = createLogger({ level: 'warn', logsDir: paths.logs });
  let onLinked!: () => void;
  const linked = new Promise<void>((resolve) => { onLinked = resolve; });
  // The channel module owns the Baileys protocol; here we only drive its linking.
  const channel = createWhatsAppChannel({
    authDir: whatsappAuthDir(paths),
    assistantName: config.assistantName,
    hasOwnNumber: config.assistantHasOwnNumber,
    logger,
    inboxDirFor: () => null,
    identities: identityQueries(store.db),
    pairingPhone: opts.phone,
    printQr: true,
  });
  out.write(opts.phone
    ? `Asking WhatsApp for a pairing code for ${opts.phone}…\n`
    : 'Scan the QR code below with WhatsApp on your phone: Settings → Linked devices → Link a device.\n');
  const timeout = opts.timeoutMs ?? 5 * 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await channel.connect({
      onMessage: () => {},
      onChat: () => {},
      onState: (s) => { if (s.connected) onLinked(); },
    });
    await Promise.race([
      linked,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`WhatsApp was not linked within ${Math.round(timeout / 60_000)} minutes; run "nanoclaw auth whatsapp" to try again.`)), timeout); }),
    ]);
    // Give the credential writes a moment to land before closing the socket.
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    clearTimeout(timer);
    await channel.disconnect().catch(() => {});
    store.close();
  }
}

export async function authCommand(args: string[], config: Config, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [what] = args;
  const out = process.stdout;
  const restartHint = async () => {
    const running = await fetchStatus(config);
    return 'error' in running ? 'It takes effect when NanoClaw starts ("nanoclaw start").' : 'Restart NanoClaw for it to take effect (stop it and run "nanoclaw start", or "systemctl --user restart nanoclaw").';
  };
  try {
    if (what === 'claude') {
      const value = await readSecret('Anthropic API key (sk-ant-api…) or Claude OAuth token (sk-ant-oat…, from "claude setup-token"): ');
      if (!value) { process.stderr.write('Nothing entered; nothing changed.\n'); return 2; }
      const { file, variable } = saveClaudeCredential(config.home, value);
      out.write(`Saved ${variable} to ${file} (readable only by you).\n`);
      if (env[variable] || env[variable === 'ANTHROPIC_API_KEY' ? 'CLAUDE_CODE_OAUTH_TOKEN' : 'ANTHROPIC_API_KEY']) {
        out.write(`Note: your environment also sets a Claude credential, and the environment wins over .env; unset it to use this one.\n`);
      }
      out.write(`${await restartHint()}\n`);
      return 0;
    }
    if (what === 'telegram') {
      if (process.stdin.isTTY) out.write('Create a bot with @BotFather in Telegram (/newbot) and copy the token it gives you.\n');
      const value = await readSecret('Telegram bot token: ');
      if (!value) { process.stderr.write('Nothing entered; nothing changed.\n'); return 2; }
      const { file } = saveTelegramToken(config.home, value);
      out.write(`Saved TELEGRAM_BOT_TOKEN to ${file} (readable only by you).\n${await restartHint()}\n`);
      out.write('Then message your bot; the chat appears in "nanoclaw groups list" and the dashboard, ready to register.\n');
      return 0;
    }
    if (what === 'whatsapp') {
      const running = await fetchStatus(config);
      if (!('error' in running)) {
        const wa = running.status.channels.find((c) => c.name === 'whatsapp');
        if (wa?.connected) { out.write('WhatsApp is already linked and connected.\n'); return 0; }
        if (wa) {
          process.stderr.write(`NanoClaw is running and its WhatsApp channel is ${wa.linking ? 'waiting to be linked: scan the QR code on the dashboard\'s Channels page' : 'reconnecting'}. To link from here instead, stop NanoClaw first.\n`);
          return 1;
        }
      }
      await linkWhatsApp(config, { phone: option(args, '--phone') });
      out.write(`WhatsApp is linked (credentials in ${path.relative(config.home, whatsappAuthDir(homePaths(config.home)))}).\n`);
      out.write('error' in running ? 'Start NanoClaw with "nanoclaw start".\n' : 'Restart NanoClaw to connect it.\n');
      return 0;
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  process.stderr.write('Usage: nanoclaw auth claude | telegram | whatsapp [--phone <number with country code>]\n');
  return 2;
}
