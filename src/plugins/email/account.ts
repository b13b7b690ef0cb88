// Talking to the mail servers: an IMAP session per use, and an SMTP transport. The libraries are loaded
// here, on first use, so a host without email never pays for them. Nothing here leaves the host.
import type { ImapFlow, ImapFlowOptions } from 'imapflow';
import type { EmailSettings } from './settings.js';
import { providerOf } from './settings.js';

const TIMEOUT_MS = 20_000;

export async function openImap(s: EmailSettings, extra: Partial<ImapFlowOptions> = {}): Promise<ImapFlow> {
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow({
    host: s.imap.host,
    port: s.imap.port,
    // 993 is TLS from the first byte; other ports upgrade with STARTTLS, which is then required.
    secure: s.tls && s.imap.port === 993,
    doSTARTTLS: s.tls ? s.imap.port !== 993 : false,
    auth:
      s.auth.kind === 'oauth' ? { user: s.user, accessToken: s.auth.token } : { user: s.user, pass: s.auth.password },
    logger: false,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: 5 * 60_000,
    ...extra,
  });
  // A dropped connection emits 'error'; the call in progress fails with it, the host must not crash.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Runs `fn` in one IMAP session, logging out afterwards whatever happened. */
export async function withImap<T>(s: EmailSettings, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const client = await openImap(s);
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export async function smtpTransport(s: EmailSettings) {
  const nodemailer = (await import('nodemailer')).default;
  return nodemailer.createTransport({
    host: s.smtp.host,
    port: s.smtp.port,
    secure: s.tls && s.smtp.port === 465,
    requireTLS: s.tls && s.smtp.port !== 465,
    ignoreTLS: !s.tls,
    auth:
      s.auth.kind === 'oauth'
        ? { type: 'OAuth2', user: s.user, accessToken: s.auth.token }
        : { user: s.user, pass: s.auth.password },
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: 5 * 60_000,
  });
}

export interface LoginProblem {
  /** What happened, in a sentence. */
  problem: string;
  /** The one thing to do about it. */
  fix: string;
}

function secretWords(s: EmailSettings): string {
  const known = providerOf(s.address);
  if (s.auth.kind === 'oauth') return 'a fresh OAuth access token (they expire after about an hour)';
  return known ? known.help : 'the app password your provider gave you for mail apps (not your web login password)';
}

/** Why a connection failed, said for a person: which server, what it said, and what to do. */
export function describeFailure(s: EmailSettings, which: 'IMAP' | 'SMTP', err: unknown): LoginProblem {
  const e = err as {
    code?: string;
    authenticationFailed?: boolean;
    responseCode?: number;
    responseText?: string;
    response?: unknown;
    message?: string;
  };
  const server = which === 'IMAP' ? s.imap : s.smtp;
  const where = `${which} server ${server.host}:${server.port}`;
  const said = (typeof e.responseText === 'string' && e.responseText) || (typeof e.response === 'string' && e.response);
  const authFailed = e.authenticationFailed || e.code === 'EAUTH' || e.responseCode === 535;
  if (authFailed)
    return {
      problem: `The ${where} refused the login for ${s.user}${said ? ` ("${String(said).slice(0, 200)}")` : ''}.`,
      fix: `Check EMAIL_USER/EMAIL_ADDRESS and use ${secretWords(s)}; then run "nanoclaw auth email" again.`,
    };
  const code = e.code ?? '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNECTION', 'ESOCKET', 'ETIMEOUT'].includes(code))
    return {
      problem: `Cannot reach the ${where} (${code}${e.message ? `: ${e.message.slice(0, 160)}` : ''}).`,
      fix: `Check EMAIL_${which}_HOST and EMAIL_${which}_PORT (your provider's help pages list them) and this machine's internet connection.`,
    };
  if (/tls|ssl|certificate/i.test(`${code} ${e.message ?? ''}`))
    return {
      problem: `The ${where} did not complete a secure connection (${e.message?.slice(0, 160) ?? code}).`,
      fix: `Use the TLS port your provider lists (IMAP 993, SMTP 465 or 587) in EMAIL_${which}_PORT.`,
    };
  return {
    problem: `The ${where} failed: ${(e.message ?? String(err)).slice(0, 200)}.`,
    fix: `Check the EMAIL_${which}_* settings, then run "nanoclaw doctor" again.`,
  };
}

/** Logs in to both servers; null when both accept the account, else what failed and how to fix it. */
export async function checkLogin(s: EmailSettings): Promise<LoginProblem | null> {
  try {
    await withImap(s, async () => {});
  } catch (err) {
    return describeFailure(s, 'IMAP', err);
  }
  try {
    const t = await smtpTransport(s);
    try {
      await t.verify();
    } finally {
      t.close();
    }
  } catch (err) {
    return describeFailure(s, 'SMTP', err);
  }
  return null;
}
