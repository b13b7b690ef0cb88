// What the tools do with the account: search, read, draft, send, mark, archive. Each call is one IMAP
// session; a draft is kept on the host exactly as composed, so what the owner approves is what is sent.
import type { ImapFlow, MessageEnvelopeObject, MessageStructureObject } from 'imapflow';
import type { AddressObject, ParsedMail } from 'mailparser';
import { randomBytes } from 'node:crypto';
import { smtpTransport, withImap } from './account.js';
import type { EmailSettings } from './settings.js';
import { clip, external, formatSize, messageId, oneLine, parseMessageId } from './text.js';

export const MAX_RESULTS = 50;
const MAX_BODY_CHARS = 30_000;
/** Larger mail is not parsed whole: its size would hold the host's memory for one answer. */
const MAX_PARSE_BYTES = 15 * 1024 * 1024;
/** Of a larger mail, at most this much of its text part is fetched (far more than MAX_BODY_CHARS shows). */
const MAX_TEXT_PART_BYTES = 512 * 1024;

export interface SearchQuery {
  words?: string;
  from?: string;
  since?: string;
  until?: string;
  unread?: boolean;
  folder?: string;
  limit?: number;
}

export interface Draft {
  id: string;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  body: string;
  raw: Buffer;
  /** Where the copy in the account's Drafts folder is, to remove it once sent. */
  saved: { folder: string; uid: number } | null;
  /** A forward: which mail it carries whole (From, Subject, attachments), as the owner is shown it. */
  forwards?: string | null;
}

export interface DraftInput {
  to?: string[];
  cc?: string[];
  subject?: string;
  body: string;
  replyTo?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function addresses(env: MessageEnvelopeObject['from'] | undefined): string {
  return (env ?? []).map((a) => (a.name ? `${a.name} <${a.address ?? ''}>` : (a.address ?? ''))).join(', ');
}

function addressText(a: AddressObject | AddressObject[] | undefined): string {
  if (!a) return '';
  return (Array.isArray(a) ? a : [a]).map((x) => x.text).join(', ');
}

function addressList(a: AddressObject | AddressObject[] | undefined): string[] {
  if (!a) return [];
  return (Array.isArray(a) ? a : [a]).flatMap((x) => x.value.map((v) => v.address ?? '')).filter(Boolean);
}

/** A folder by its special use (\Drafts, \Sent, \Archive), else by name; created when missing and `create`. */
async function specialFolder(c: ImapFlow, use: string, names: string[], create: boolean): Promise<string | null> {
  const list = await c.list();
  const found =
    list.find((m) => m.specialUse === use) ??
    list.find((m) => names.some((n) => m.path.toLowerCase() === n.toLowerCase()));
  if (found) return found.path;
  if (!create) return null;
  await c.mailboxCreate(names[0]);
  return names[0];
}

function dateOf(s: string, field: string): Date {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`${field} must be a date like 2026-03-01, got "${s}".`);
  return new Date(t);
}

export async function searchMail(s: EmailSettings, q: SearchQuery): Promise<string> {
  const folder = q.folder?.trim() || 'INBOX';
  const limit = Math.min(Math.max(q.limit ?? 20, 1), MAX_RESULTS);
  return withImap(s, async (c) => {
    const lock = await c.getMailboxLock(folder, { readOnly: true }).catch(() => {
      throw new Error(`There is no folder "${folder}" in ${s.address}; INBOX, Sent, Drafts and Archive are usual.`);
    });
    try {
      const criteria: Record<string, unknown> = {};
      if (q.words?.trim()) criteria.text = q.words.trim();
      if (q.from?.trim()) criteria.from = q.from.trim();
      if (q.since) criteria.since = dateOf(q.since, 'since');
      // IMAP's BEFORE is by day and excludes it; "until" includes its day.
      if (q.until) criteria.before = new Date(dateOf(q.until, 'until').getTime() + DAY_MS);
      if (q.unread) criteria.seen = false;
      if (!Object.keys(criteria).length) criteria.all = true;
      const found = (await c.search(criteria, { uid: true })) || [];
      // UIDs grow with arrival: the newest few are the highest, then sorted by their date.
      const candidates = [...found].sort((a, b) => b - a).slice(0, limit * 2);
      if (!candidates.length) return `No mail in ${folder} matches that search.`;
      const msgs = await c.fetchAll(
        candidates.join(','),
        { uid: true, envelope: true, flags: true, internalDate: true, size: true },
        { uid: true },
      );
      const time = (d: Date | string | undefined) => (d ? new Date(d).getTime() : 0);
      // Same second (Date headers have no finer grain): the later arrival first.
      msgs.sort(
        (a, b) => time(b.envelope?.date ?? b.internalDate) - time(a.envelope?.date ?? a.internalDate) || b.uid - a.uid,
      );
      const shown = msgs.slice(0, limit);
      const lines = shown.map((m) => {
        const date = m.envelope?.date ?? m.internalDate;
        return [
          `- id ${messageId(folder, m.uid)}`,
          date ? new Date(date).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : 'no date',
          `from ${oneLine(addresses(m.envelope?.from), 120)}`,
          `subject "${oneLine(m.envelope?.subject, 160)}"`,
          m.flags?.has('\\Seen') ? 'read' : 'unread',
          formatSize(m.size ?? 0),
        ].join(' · ');
      });
      const more = found.length > shown.length ? ` (newest ${shown.length} of ${found.length})` : '';
      return `${found.length} message${found.length === 1 ? '' : 's'} in ${folder}${more}, newest first. Read one with email_read and its id.\n${external(`search:${folder}`, lines.join('\n'))}`;
    } finally {
      lock.release();
    }
  });
}

/** A mail as the tools use it: parsed whole, or (when too large for that) its headers and text only. */
type Mail = Pick<ParsedMail, 'from' | 'to' | 'cc' | 'replyTo' | 'date' | 'subject' | 'messageId' | 'references'> & {
  text?: string;
  attachments: { filename?: string; contentType: string; size: number }[];
};

/** A body part that is the mail's text rather than an attachment. */
const isTextPart = (n: MessageStructureObject, type: string) =>
  n.type === type && n.disposition !== 'attachment' && !!n.part;

function walk(n: MessageStructureObject | undefined, out: MessageStructureObject[] = []): MessageStructureObject[] {
  if (!n) return out;
  if (n.childNodes?.length) for (const c of n.childNodes) walk(c, out);
  else out.push(n);
  return out;
}

/**
 * A mail over MAX_PARSE_BYTES: its headers, and its first text part up to MAX_TEXT_PART_BYTES, fetched alone;
 * attachments are listed from the server's body structure, never downloaded.
 */
async function readLarge(c: ImapFlow, uid: number): Promise<Mail> {
  const { simpleParser } = await import('mailparser');
  const meta = await c.fetchOne(String(uid), { uid: true, headers: true, bodyStructure: true }, { uid: true });
  const head = meta && meta.headers ? await simpleParser(meta.headers) : null;
  const leaves = walk(meta ? meta.bodyStructure : undefined);
  // A single-part mail's only leaf has no part number in some servers' answers: it is part 1.
  if (leaves.length === 1 && !leaves[0].part) leaves[0] = { ...leaves[0], part: '1' };
  const textPart = leaves.find((n) => isTextPart(n, 'text/plain')) ?? leaves.find((n) => isTextPart(n, 'text/html'));
  let text: string | undefined;
  if (textPart) {
    const got = await c.download(String(uid), textPart.part, { uid: true, maxBytes: MAX_TEXT_PART_BYTES });
    if (got.content) {
      const chunks: Buffer[] = [];
      for await (const chunk of got.content) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      text =
        textPart.type === 'text/html'
          ? (await simpleParser(`Content-Type: text/html; charset=utf-8\r\n\r\n${raw}`)).text
          : raw;
    }
  }
  const attachments = leaves
    .filter((n) => n !== textPart)
    .map((n) => ({
      filename: n.dispositionParameters?.filename ?? n.parameters?.name,
      contentType: n.type,
      // The server counts the encoded size; base64 is a third larger than what it holds.
      size: Math.round((n.size ?? 0) * (n.encoding?.toLowerCase() === 'base64' ? 0.75 : 1)),
    }));
  return {
    from: head?.from,
    to: head?.to,
    cc: head?.cc,
    replyTo: head?.replyTo,
    date: head?.date,
    subject: head?.subject,
    messageId: head?.messageId,
    references: head?.references,
    text,
    attachments,
  };
}

async function parseMessage(c: ImapFlow, folder: string, uid: number) {
  const { simpleParser } = await import('mailparser');
  const meta = await c.fetchOne(String(uid), { uid: true, size: true, flags: true }, { uid: true });
  if (!meta) throw new Error(`There is no message ${messageId(folder, uid)}: search again for its current id.`);
  const seen = meta.flags?.has('\\Seen') ?? false;
  const size = meta.size ?? 0;
  if (size > MAX_PARSE_BYTES) return { parsed: await readLarge(c, uid), seen, size, large: true };
  // source is fetched with BODY.PEEK: reading does not mark the mail read.
  const full = await c.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
  if (!full || !full.source) throw new Error(`Message ${messageId(folder, uid)} could not be fetched.`);
  const parsed: Mail = await simpleParser(full.source);
  return { parsed, seen, size, large: false };
}

export async function readMail(s: EmailSettings, id: string): Promise<string> {
  const where = parseMessageId(id);
  if (!where) throw new Error(`"${id}" is not a message id: use one that email_search gave, like INBOX:42.`);
  return withImap(s, async (c) => {
    const lock = await c.getMailboxLock(where.folder, { readOnly: true });
    try {
      const { parsed, seen, size, large } = await parseMessage(c, where.folder, where.uid);
      const attachments = parsed.attachments.map(
        (a) => `  - ${oneLine(a.filename ?? '(no name)', 120)} (${a.contentType}, ${formatSize(a.size)})`,
      );
      const body = parsed.text?.trim() || '(no text)';
      const content = [
        `From: ${oneLine(addressText(parsed.from), 300)}`,
        `To: ${oneLine(addressText(parsed.to), 500)}`,
        ...(parsed.cc ? [`Cc: ${oneLine(addressText(parsed.cc), 500)}`] : []),
        `Date: ${parsed.date?.toISOString() ?? 'unknown'}`,
        `Subject: ${oneLine(parsed.subject, 300)}`,
        `Attachments: ${attachments.length ? `\n${attachments.join('\n')}` : 'none'}`,
        '',
        clip(body, MAX_BODY_CHARS),
      ].join('\n');
      const partly = large
        ? ` It is ${formatSize(size)}, more than the ${formatSize(MAX_PARSE_BYTES)} read whole: only its text is shown (at most ${MAX_BODY_CHARS} characters), and its attachments are listed but were not opened.`
        : '';
      return `Message ${id} (${seen ? 'read' : 'unread'}).${partly} Reply with email_draft and reply_to "${id}".\n${external(id, content)}`;
    } finally {
      lock.release();
    }
  });
}

export interface MailFile {
  fileName: string;
  mimeType: string;
  content: Buffer;
}

/** The `n`th attachment (from 1, as email_read lists them) of a mail small enough to be read whole. */
export async function mailAttachment(s: EmailSettings, id: string, n: number): Promise<MailFile> {
  const where = parseMessageId(id);
  if (!where) throw new Error(`"${id}" is not a message id: use one that email_search gave, like INBOX:42.`);
  return withImap(s, async (c) => {
    const lock = await c.getMailboxLock(where.folder, { readOnly: true });
    try {
      const { parsed, large } = await parseMessage(c, where.folder, where.uid);
      if (large)
        throw new Error(
          `Message ${id} is larger than ${formatSize(MAX_PARSE_BYTES)}: its attachments cannot be saved here; the owner can open it in their mail app.`,
        );
      const a = (parsed as ParsedMail).attachments[n - 1];
      if (!a) throw new Error(`Message ${id} has ${parsed.attachments.length} attachment(s); there is no number ${n}.`);
      return { fileName: a.filename ?? 'attachment', mimeType: a.contentType, content: a.content };
    } finally {
      lock.release();
    }
  });
}

/** How far back the Sent folder is read to learn whom the owner has written to. */
const SENT_LEARNED = 2000;

/** Everyone the owner has written to, from the newest mail in the account's Sent folder (lower case). */
export async function sentRecipients(s: EmailSettings): Promise<string[]> {
  return withImap(s, async (c) => {
    const sent = await specialFolder(c, '\\Sent', ['Sent', 'Sent Items', 'Sent Messages'], false);
    if (!sent) return [];
    const lock = await c.getMailboxLock(sent, { readOnly: true });
    try {
      const total = c.mailbox ? c.mailbox.exists : 0;
      if (!total) return [];
      const out = new Set<string>();
      for await (const m of c.fetch(`${Math.max(1, total - SENT_LEARNED + 1)}:*`, { envelope: true }))
        for (const a of [...(m.envelope?.to ?? []), ...(m.envelope?.cc ?? [])])
          if (a.address) out.add(a.address.toLowerCase());
      return [...out];
    } finally {
      lock.release();
    }
  });
}

/** Composes a draft (a reply is threaded to its original) and saves a copy to the account's Drafts. */
export async function draftMail(s: EmailSettings, input: DraftInput): Promise<Draft> {
  const nodemailer = (await import('nodemailer')).default;
  let to = input.to ?? [];
  let subject = input.subject;
  let inReplyTo: string | undefined;
  let references: string[] | undefined;
  if (input.replyTo) {
    const where = parseMessageId(input.replyTo);
    if (!where) throw new Error(`reply_to "${input.replyTo}" is not a message id: use one that email_search gave.`);
    const original = await withImap(s, async (c) => {
      const lock = await c.getMailboxLock(where.folder, { readOnly: true });
      try {
        return (await parseMessage(c, where.folder, where.uid)).parsed;
      } finally {
        lock.release();
      }
    });
    if (!to.length)
      to = addressList(original.replyTo).length ? addressList(original.replyTo) : addressList(original.from);
    const was = original.subject ?? '';
    subject ??= /^re:/i.test(was) ? was : `Re: ${was}`;
    if (original.messageId) {
      inReplyTo = original.messageId;
      const earlier = Array.isArray(original.references)
        ? original.references
        : original.references
          ? [original.references]
          : [];
      references = [...earlier, original.messageId];
    }
  }
  if (!to.length) throw new Error('Say who the mail is to (to), or give reply_to with the id of the mail to answer.');
  const cc = input.cc ?? [];
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const built = await composer.sendMail({
    from: s.address,
    to,
    cc: cc.length ? cc : undefined,
    subject: subject ?? '',
    text: input.body,
    inReplyTo,
    references,
  });
  const raw = built.message as Buffer;
  const saved = await saveDraft(s, raw);
  return {
    id: `draft-${randomBytes(4).toString('hex')}`,
    from: s.address,
    to,
    cc,
    subject: subject ?? '',
    body: input.body,
    raw,
    saved,
  };
}

/** Saves a draft to the account's Drafts; answers where, to remove it once sent. */
async function saveDraft(s: EmailSettings, raw: Buffer): Promise<Draft['saved']> {
  return withImap(s, async (c) => {
    const folder = await specialFolder(c, '\\Drafts', ['Drafts'], true);
    const r = await c.append(folder!, raw, ['\\Draft', '\\Seen']);
    return r && r.uid ? { folder: folder!, uid: r.uid } : null;
  });
}

/** A draft that forwards one mail whole (attached as the original message, attachments and all). */
export async function forwardMail(
  s: EmailSettings,
  input: { id: string; to: string[]; note?: string },
): Promise<Draft> {
  const where = parseMessageId(input.id);
  if (!where) throw new Error(`"${input.id}" is not a message id: use one that email_search gave, like INBOX:42.`);
  const original = await withImap(s, async (c) => {
    const lock = await c.getMailboxLock(where.folder, { readOnly: true });
    try {
      const { parsed, large } = await parseMessage(c, where.folder, where.uid);
      if (large)
        throw new Error(
          `Message ${input.id} is larger than ${formatSize(MAX_PARSE_BYTES)}: forward it from the mail app.`,
        );
      const full = await c.fetchOne(String(where.uid), { uid: true, source: true }, { uid: true });
      return { parsed: parsed as ParsedMail, source: full && full.source ? full.source : Buffer.alloc(0) };
    } finally {
      lock.release();
    }
  });
  const { parsed, source } = original;
  const was = oneLine(parsed.subject, 300);
  const subject = /^fwd?:/i.test(was) ? was : `Fwd: ${was}`;
  const files = parsed.attachments.map((a) => oneLine(a.filename ?? '(no name)', 120));
  const forwards = `"${was}" from ${oneLine(addressText(parsed.from), 300)} of ${parsed.date?.toISOString() ?? 'unknown date'}, attached whole${files.length ? ` with its attachments: ${files.join(', ')}` : ''}`;
  const body = input.note ?? '';
  const nodemailer = (await import('nodemailer')).default;
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const built = await composer.sendMail({
    from: s.address,
    to: input.to,
    subject,
    text: body,
    attachments: [{ filename: 'forwarded.eml', content: source, contentType: 'message/rfc822' }],
  });
  const raw = built.message as Buffer;
  return {
    id: `draft-${randomBytes(4).toString('hex')}`,
    from: s.address,
    to: input.to,
    cc: [],
    subject,
    body,
    raw,
    saved: await saveDraft(s, raw),
    forwards,
  };
}

/** Exactly what the owner is shown before a draft is sent. */
export function describeDraft(d: Draft): string {
  return [
    `From: ${d.from}`,
    `To: ${d.to.join(', ')}`,
    ...(d.cc.length ? [`Cc: ${d.cc.join(', ')}`] : []),
    `Subject: ${d.subject}`,
    ...(d.forwards ? [`Forwards: ${d.forwards}`] : []),
    '',
    d.body,
  ].join('\n');
}

const keepsSentItself = (s: EmailSettings) => /(^|\.)(gmail|googlemail)\.com$/i.test(s.smtp.host);

/** Sends a draft as composed, files it in Sent (where the provider does not) and removes it from Drafts. */
export async function sendDraft(s: EmailSettings, d: Draft): Promise<string> {
  const transport = await smtpTransport(s);
  let response: string;
  try {
    const r = await transport.sendMail({ envelope: { from: d.from, to: [...d.to, ...d.cc] }, raw: d.raw });
    response = String(r.response ?? '');
  } finally {
    transport.close();
  }
  // The mail is out; filing it is best effort and must not make the send look failed.
  const filed = await withImap(s, async (c) => {
    if (!keepsSentItself(s)) {
      const sent = await specialFolder(c, '\\Sent', ['Sent', 'Sent Items', 'Sent Messages'], true);
      if (sent) await c.append(sent, d.raw, ['\\Seen']);
    }
    if (d.saved) {
      const lock = await c.getMailboxLock(d.saved.folder);
      try {
        await c.messageDelete(String(d.saved.uid), { uid: true });
      } finally {
        lock.release();
      }
    }
    return true;
  }).catch(() => false);
  return `Sent to ${[...d.to, ...d.cc].join(', ')} (subject "${oneLine(d.subject, 120)}")${response ? `; the server said: ${oneLine(response, 120)}` : ''}.${filed ? '' : ' It could not be filed in Sent.'}`;
}

export async function markMail(s: EmailSettings, id: string, read: boolean): Promise<string> {
  const where = parseMessageId(id);
  if (!where) throw new Error(`"${id}" is not a message id: use one that email_search gave, like INBOX:42.`);
  return withImap(s, async (c) => {
    const lock = await c.getMailboxLock(where.folder);
    try {
      if (!(await c.fetchOne(String(where.uid), { uid: true }, { uid: true })))
        throw new Error(`There is no message ${id}: search again for its current id.`);
      if (read) await c.messageFlagsAdd(String(where.uid), ['\\Seen'], { uid: true });
      else await c.messageFlagsRemove(String(where.uid), ['\\Seen'], { uid: true });
      return `Marked ${id} as ${read ? 'read' : 'unread'}.`;
    } finally {
      lock.release();
    }
  });
}

export async function archiveMail(s: EmailSettings, id: string): Promise<string> {
  const where = parseMessageId(id);
  if (!where) throw new Error(`"${id}" is not a message id: use one that email_search gave, like INBOX:42.`);
  return withImap(s, async (c) => {
    // Gmail's archive is "All Mail" (\All); others have \Archive or a folder named Archive.
    const list = await c.list();
    const target =
      list.find((m) => m.specialUse === '\\Archive')?.path ??
      list.find((m) => m.specialUse === '\\All')?.path ??
      (await specialFolder(c, '\\Archive', ['Archive'], true))!;
    if (target === where.folder) return `${id} is already in ${target}.`;
    const lock = await c.getMailboxLock(where.folder);
    try {
      const moved = await c.messageMove(String(where.uid), target, { uid: true });
      if (!moved || !moved.uidMap?.size) throw new Error(`There is no message ${id}: search again for its current id.`);
      const uid = moved.uidMap.get(where.uid);
      return `Archived ${id} to ${target}${uid ? ` (now ${messageId(target, uid)})` : ''}.`;
    } finally {
      lock.release();
    }
  });
}
