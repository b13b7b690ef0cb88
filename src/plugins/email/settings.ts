// The mail account, from the home's .env (or the environment): an address, IMAP and SMTP servers, and an
// app password or an OAuth access token. Known providers fill in their servers from the address alone.
import type { Settings } from '../../core/channels/plugin.js';

export interface Server {
  host: string;
  port: number;
}

export interface EmailSettings {
  address: string;
  user: string;
  imap: Server;
  smtp: Server;
  auth: { kind: 'password'; password: string } | { kind: 'oauth'; token: string };
  /** Off only for a server on this machine (tests, a local bridge): the password would cross the network in clear. */
  tls: boolean;
}

/** Where the big providers keep their servers (all want an app password, or OAuth). */
export const PROVIDERS: Record<string, { imap: Server; smtp: Server; help: string }> = {
  'gmail.com': {
    imap: { host: 'imap.gmail.com', port: 993 },
    smtp: { host: 'smtp.gmail.com', port: 465 },
    help: 'an app password from https://myaccount.google.com/apppasswords (2-Step Verification must be on)',
  },
  'fastmail.com': {
    imap: { host: 'imap.fastmail.com', port: 993 },
    smtp: { host: 'smtp.fastmail.com', port: 465 },
    help: 'an app password from Fastmail Settings → Privacy & Security → App passwords (IMAP and SMTP access)',
  },
  'icloud.com': {
    imap: { host: 'imap.mail.me.com', port: 993 },
    smtp: { host: 'smtp.mail.me.com', port: 587 },
    help: 'an app-specific password from https://account.apple.com (Sign-In and Security → App-Specific Passwords)',
  },
  'outlook.com': {
    imap: { host: 'outlook.office365.com', port: 993 },
    smtp: { host: 'smtp-mail.outlook.com', port: 587 },
    help: 'an OAuth access token (EMAIL_OAUTH_TOKEN): Microsoft turned off passwords for IMAP',
  },
};
const ALIASES: Record<string, string> = {
  'googlemail.com': 'gmail.com',
  'fastmail.fm': 'fastmail.com',
  'me.com': 'icloud.com',
  'mac.com': 'icloud.com',
  'hotmail.com': 'outlook.com',
  'live.com': 'outlook.com',
};

export function providerOf(address: string): (typeof PROVIDERS)[string] | undefined {
  const domain = address.split('@')[1]?.toLowerCase() ?? '';
  return PROVIDERS[ALIASES[domain] ?? domain];
}

const LOCAL = new Set(['127.0.0.1', 'localhost', '::1']);

/** True once an address and a secret are set: only then are the mail libraries loaded. */
export function emailConfigured(env: Settings): boolean {
  return !!env.EMAIL_ADDRESS?.trim() && !!(env.EMAIL_PASSWORD?.trim() || env.EMAIL_OAUTH_TOKEN?.trim());
}

function port(env: Settings, name: string, fallback: number | undefined): number {
  const raw = env[name]?.trim();
  if (!raw) {
    if (fallback === undefined) throw new Error(`${name} is not set: give the port your provider documents.`);
    return fallback;
  }
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 65_535)
    throw new Error(`${name} must be a port number, got "${raw}".`);
  return Number(raw);
}

/** The account, or a refusal naming the setting to fix. Call only when emailConfigured(). */
export function emailSettings(env: Settings): EmailSettings {
  const address = env.EMAIL_ADDRESS?.trim() ?? '';
  if (!/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(address))
    throw new Error(`EMAIL_ADDRESS must be an email address like you@example.com, got "${address}".`);
  const known = providerOf(address);
  const host = (name: string, fallback: string | undefined) => {
    const h = env[name]?.trim() || fallback;
    if (!h) throw new Error(`${name} is not set: give your provider's server name (e.g. imap.example.com).`);
    if (!/^[A-Za-z0-9.:-]+$/.test(h)) throw new Error(`${name} must be a host name, got "${h}".`);
    return h;
  };
  const imapHost = host('EMAIL_IMAP_HOST', known?.imap.host);
  const smtpHost = host('EMAIL_SMTP_HOST', known?.smtp.host);
  const tlsRaw = (env.EMAIL_TLS?.trim() || 'on').toLowerCase();
  if (!['on', 'off'].includes(tlsRaw)) throw new Error(`EMAIL_TLS must be "on" or "off", got "${tlsRaw}".`);
  const tls = tlsRaw === 'on';
  if (!tls && !(LOCAL.has(imapHost) && LOCAL.has(smtpHost)))
    throw new Error(
      'EMAIL_TLS=off is only allowed for a mail server on this machine (127.0.0.1): elsewhere your password would cross the network unencrypted. Remove EMAIL_TLS.',
    );
  const token = env.EMAIL_OAUTH_TOKEN?.trim();
  const password = env.EMAIL_PASSWORD?.trim();
  if (!token && !password)
    throw new Error('Set EMAIL_PASSWORD (an app password) or EMAIL_OAUTH_TOKEN: run "nanoclaw auth email".');
  return {
    address,
    user: env.EMAIL_USER?.trim() || address,
    imap: { host: imapHost, port: port(env, 'EMAIL_IMAP_PORT', known?.imap.port ?? (tls ? 993 : 143)) },
    smtp: { host: smtpHost, port: port(env, 'EMAIL_SMTP_PORT', known?.smtp.port ?? (tls ? 465 : 587)) },
    auth: token ? { kind: 'oauth', token } : { kind: 'password', password: password! },
    tls,
  };
}

/**
 * Email as a chat: EMAIL_CHAT_FROM lists the senders whose mail becomes a chat (comma-separated addresses), or
 * is "*" for everyone. Unset: mail stays in the inbox for the tools only.
 */
export function chatSenders(env: Settings): ReadonlySet<string> | '*' | null {
  const raw = env.EMAIL_CHAT_FROM?.trim();
  if (!raw) return null;
  if (raw === '*') return '*';
  const list = raw.split(/[,\s]+/).filter(Boolean);
  const bad = list.find((a) => !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(a));
  if (bad) throw new Error(`EMAIL_CHAT_FROM must list email addresses (or be "*"), got "${bad}".`);
  return new Set(list.map((a) => a.toLowerCase()));
}

/** EMAIL_CHATS: the folders of chats besides main that may use the email tools (comma-separated). */
export function emailChats(env: Settings): ReadonlySet<string> {
  const list = (env.EMAIL_CHATS ?? '').split(/[,\s]+/).filter(Boolean);
  const bad = list.find((f) => !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(f));
  if (bad) throw new Error(`EMAIL_CHATS must list group folders (like family,work), got "${bad}".`);
  return new Set(list);
}

/** The .env lines for these settings (the other kind of secret removed, so a stale one never wins). */
export function envLines(s: EmailSettings): Record<string, string | null> {
  return {
    EMAIL_ADDRESS: s.address,
    EMAIL_USER: s.user === s.address ? null : s.user,
    EMAIL_IMAP_HOST: s.imap.host,
    EMAIL_IMAP_PORT: String(s.imap.port),
    EMAIL_SMTP_HOST: s.smtp.host,
    EMAIL_SMTP_PORT: String(s.smtp.port),
    EMAIL_PASSWORD: s.auth.kind === 'password' ? s.auth.password : null,
    EMAIL_OAUTH_TOKEN: s.auth.kind === 'oauth' ? s.auth.token : null,
    EMAIL_TLS: s.tls ? null : 'off',
  };
}
