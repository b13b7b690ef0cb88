// Email as a chat: mail from the senders the owner allows becomes a message in the chat `email:<sender>`,
// registered like any chat, and the assistant's answer goes back as a threaded reply from the account.
// New mail arrives by IMAP IDLE; after a restart or a dropped connection, what came meanwhile is picked up
// by UID, once: the last UID handed to the host is kept in the store, and a message id is its UID.
import { createHash } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import type { ParsedMail } from 'mailparser';
import type { ChannelContext } from '../../core/channels/plugin.js';
import { registerGroup } from '../../core/groups/registration.js';
import type { Channel, ChannelEvents } from '../../core/types.js';
import { openImap, smtpTransport } from './account.js';
import type { EmailSettings } from './settings.js';
import { oneLine } from './text.js';

export const EMAIL_JID = 'email:';
/** Longer mail is cut here: the chat is for what someone writes, not for whole newsletters. */
const TEXT_MAX = 20_000;
const RETRY_MAX_MS = 60_000;

export type Senders = ReadonlySet<string> | '*';

export function emailChatJid(address: string): string {
  return `${EMAIL_JID}${address.toLowerCase()}`;
}

/** A folder name for a sender's chat: readable, within the folder rules, and distinct per address. */
export function emailChatFolder(address: string): string {
  const readable = address
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const tag = createHash('sha256').update(address.toLowerCase()).digest('hex').slice(0, 6);
  return `email-${readable}-${tag}`;
}

/** Replies from autoresponders and lists are never answered, so two assistants cannot write to each other forever. */
function automatic(mail: ParsedMail): boolean {
  const auto = String(mail.headers.get('auto-submitted') ?? 'no').toLowerCase();
  const precedence = String(mail.headers.get('precedence') ?? '').toLowerCase();
  return auto !== 'no' || ['bulk', 'list', 'junk', 'auto_reply'].includes(precedence) || mail.headers.has('list-id');
}

/** What the sender wrote: the subject, then the text without the quoted history a reply carries. */
export function chatText(mail: ParsedMail): string {
  const lines: string[] = [];
  for (const line of (mail.text ?? '').replace(/\r\n/g, '\n').split('\n')) {
    if (/^On .{1,200} wrote:\s*$/.test(line) || /^-{2,}\s*Original Message\s*-{2,}$/i.test(line)) break;
    if (!line.startsWith('>')) lines.push(line);
  }
  const body = lines.join('\n').trim();
  const files = mail.attachments.map((a) => a.filename ?? 'unnamed').join(', ');
  const text = [
    mail.subject ? `Subject: ${oneLine(mail.subject)}` : '',
    body,
    files ? `[attached, not opened: ${oneLine(files, 400)}]` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  return text.length > TEXT_MAX ? `${text.slice(0, TEXT_MAX)}\n[… the rest of this mail is not shown]` : text;
}

const reSubject = (subject: string) => (/^re:/i.test(subject) ? subject : `Re: ${subject}`);

export function createEmailChat(ctx: ChannelContext, s: EmailSettings, senders: Senders): Channel {
  const log = ctx.logger;
  const { emailInbox } = ctx.store;
  let events: ChannelEvents | null = null;
  let client: ImapFlow | null = null;
  let connected = false;
  let stopped = false;
  let running: Promise<void> | null = null;
  let transport: Awaited<ReturnType<typeof smtpTransport>> | null = null;
  let wake = () => {};
  /** Resolved once the first session follows the inbox, or has failed: the host starts only after that. */
  let firstTry = () => {};

  const allowed = (address: string) =>
    address.toLowerCase() !== s.address.toLowerCase() && (senders === '*' || senders.has(address.toLowerCase()));

  /** The sender's chat, registered on their first mail; false when it cannot be. */
  function ensureChat(jid: string, address: string, name: string): boolean {
    if (ctx.store.groups.get(jid)) return true;
    const res = registerGroup(
      { store: ctx.store, paths: ctx.paths, assistantName: ctx.config.assistantName },
      { jid, name: `Email: ${name || address}`, folder: emailChatFolder(address), requiresTrigger: false },
    );
    if (!res.ok) {
      log.warn({ jid, error: res.error }, 'could not register an email chat');
      ctx.notifyOwner(`Mail from ${address} could not become a chat: ${res.error}`);
      return false;
    }
    ctx.notifyOwner(`Mail from ${address} is now a chat of its own (folder ${res.value.folder}); I answer it there.`);
    return true;
  }

  async function handle(uid: number, validity: string, source: Buffer): Promise<void> {
    const { simpleParser } = await import('mailparser');
    const mail = await simpleParser(source);
    const from = mail.from?.value[0];
    const address = from?.address?.toLowerCase() ?? '';
    if (!address || !allowed(address) || automatic(mail)) {
      log.debug({ uid, allowed: !!address && allowed(address) }, 'mail left in the inbox, not a chat message');
      return;
    }
    const jid = emailChatJid(address);
    const name = oneLine(from?.name, 80);
    if (!ensureChat(jid, address, name)) return;
    if (mail.messageId) {
      const refs = [mail.references ?? []].flat();
      emailInbox.setThread(jid, { messageId: mail.messageId, subject: mail.subject ?? '', references: refs });
    }
    events?.onChat({ jid, name: `Email: ${name || address}`, channel: 'email', isGroup: false });
    events?.onMessage({
      id: `${validity}-${uid}`,
      chatJid: jid,
      sender: address,
      senderName: name || address,
      text: chatText(mail),
      timestamp: (mail.date && !isNaN(mail.date.getTime()) ? mail.date : new Date()).toISOString(),
      fromMe: false,
      fromAssistant: false,
    });
  }

  /** Everything after the last UID handed over, oldest first; the cursor moves after each one. */
  async function catchUp(c: ImapFlow, validity: string): Promise<void> {
    const after = emailInbox.cursor(s.address)?.lastUid ?? 0;
    const found: { uid: number; source: Buffer }[] = [];
    // The fetch is read whole before any other command: IMAP answers one command at a time.
    for await (const m of c.fetch(`${after + 1}:*`, { uid: true, source: true }, { uid: true }))
      if (m.uid > after && m.source) found.push({ uid: m.uid, source: m.source });
    for (const m of found.sort((a, b) => a.uid - b.uid)) {
      try {
        await handle(m.uid, validity, m.source);
      } catch (err) {
        log.warn({ uid: m.uid, err: (err as Error).message }, 'a mail could not be read; skipped');
      }
      emailInbox.setCursor(s.address, validity, m.uid);
    }
  }

  /** One IMAP session: open the inbox, catch up, then follow it (imapflow IDLEs between commands) until it closes. */
  async function session(): Promise<void> {
    // IDLE at once, not after imapflow's usual 15 s pause: this connection does nothing but wait for mail.
    const c = (client = await openImap(s, { autoIdleDelay: 200 }));
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    const box = await c.mailboxOpen('INBOX');
    const validity = String(box.uidValidity);
    const cursor = emailInbox.cursor(s.address);
    // First start, or the server renumbered the inbox: only mail from now on is new.
    if (!cursor || cursor.validity !== validity) emailInbox.setCursor(s.address, validity, box.uidNext - 1);
    connected = true;
    events?.onState?.({ connected: true, detail: s.address });
    firstTry();
    let pending = Promise.resolve();
    const drain = () => {
      pending = pending
        .then(() => catchUp(c, validity))
        .catch((err) => {
          log.warn({ err: (err as Error).message }, 'reading new mail failed; reconnecting');
          c.close();
        });
    };
    c.on('exists', drain);
    drain();
    await closed;
    await pending;
  }

  async function run(): Promise<void> {
    let wait = 1000;
    while (!stopped) {
      const began = Date.now();
      try {
        await session();
      } catch (err) {
        if (!stopped) log.warn({ err: (err as Error).message }, 'email inbox connection failed');
      }
      connected = false;
      client = null;
      firstTry();
      if (stopped) return;
      events?.onState?.({ connected: false, detail: `reconnecting to ${s.imap.host}` });
      // A session that lasted a while was a drop, not a refusal: reconnect soon again.
      wait = Date.now() - began > RETRY_MAX_MS ? 1000 : Math.min(wait * 2, RETRY_MAX_MS);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => (clearTimeout(timer), resolve());
      });
    }
  }

  return {
    name: 'email',
    sharesUserAccount: false,
    ownsJid: (jid) => jid.startsWith(EMAIL_JID),
    isConnected: () => connected,
    async connect(ev) {
      events = ev;
      const ready = new Promise<void>((resolve) => (firstTry = resolve));
      running = run();
      await ready;
    },
    async sendMessage(jid, text, opts) {
      const to = jid.slice(EMAIL_JID.length);
      const thread = emailInbox.thread(jid);
      transport ??= await smtpTransport(s);
      const subject = thread?.subject
        ? reSubject(oneLine(thread.subject))
        : `A message from ${ctx.config.assistantName}`;
      await transport.sendMail({
        from: s.address,
        to,
        subject,
        text,
        // The same outbox item keeps its Message-ID across retries, so a receiving server can tell a resend.
        ...(opts?.outboxKey ? { messageId: `<${opts.outboxKey.replace(/[^\w.-]/g, '.')}@nanoclaw>` } : {}),
        ...(thread ? { inReplyTo: thread.messageId, references: [...thread.references, thread.messageId] } : {}),
        headers: { 'Auto-Submitted': 'auto-replied' },
      });
    },
    async disconnect() {
      stopped = true;
      wake();
      await client?.logout().catch(() => client?.close());
      await running;
      transport?.close();
    },
  };
}
