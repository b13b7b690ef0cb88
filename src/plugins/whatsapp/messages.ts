// Pure conversion of a Baileys WAMessage into our Message: which messages
// count, who sent them (one identity per person, whether WhatsApp addressed
// them by LID or by phone number), what the text says, and which media needs
// saving. No I/O here: identity links and media are handed back to the channel.
// Baileys' parts, not its index (see whatsapp.ts).
import type { WAMessage } from 'baileys/lib/Types/index.js';
import { normalizeMessageContent } from 'baileys/lib/Utils/index.js';
import {
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  isLidUser,
  isPnUser,
  jidNormalizedUser,
} from 'baileys/lib/WABinary/index.js';
import type { proto } from 'baileys/WAProto/index.js';
import type { Attachment, Message } from '../../core/types.js';

export interface ConvertOptions {
  assistantName: string;
  /** The assistant has a number of its own: everything sent from it is the assistant's. */
  hasOwnNumber: boolean;
  /** The linked account's own ids, once known. */
  self: { pn: string | null; lid: string | null };
  /** Known alias → canonical id (the identity_map). */
  canonical(jid: string): string;
  /** True for ids of messages this channel sent itself. */
  sentByUs?(id: string): boolean;
  /** Clock for messages that carry no timestamp. */
  now?: () => Date;
}

/** Media a message carries, to be downloaded by the channel. */
export interface MediaRef {
  kind: Attachment['kind'];
  mimeType?: string;
  /** Size the sender declared, in bytes. */
  size?: number;
}

/** A LID that turned out to be the same person as a phone JID. */
export interface IdentityLink {
  alias: string;
  canonical: string;
}

export interface Converted {
  message: Message;
  media: MediaRef | null;
  links: IdentityLink[];
}

/** Baileys key fields older releases used for the alternate id of a sender. */
type LegacyKey = { senderPn?: string; senderLid?: string; participantPn?: string; participantLid?: string };

/**
 * Converts one message, or answers null for what is not a chat message:
 * status updates, broadcasts, newsletters, protocol messages (edits,
 * deletes, key shares), reactions, and empty stubs.
 */
export function convertMessage(wa: WAMessage, opts: ConvertOptions): Converted | null {
  const key = wa.key;
  const remoteJid = key?.remoteJid;
  if (!key?.id || !remoteJid) return null;
  if (isJidBroadcast(remoteJid) || isJidNewsletter(remoteJid)) return null;

  const content = normalizeMessageContent(wa.message);
  if (!content || content.protocolMessage || content.reactionMessage || content.encReactionMessage) return null;
  const body = readContent(content);
  if (!body || (!body.text && !body.media)) return null;

  const links: IdentityLink[] = [];
  const legacy = key as LegacyKey;
  const isGroup = !!isJidGroup(remoteJid);
  const fromMe = !!key.fromMe;

  let chatJid: string;
  if (isGroup) {
    chatJid = remoteJid;
  } else {
    // For our own messages Baileys may put our own alternate id here, not the peer's.
    let alt = key.remoteJidAlt ?? legacy.senderPn ?? legacy.senderLid;
    if (fromMe && alt && isSelf(alt, opts.self)) alt = undefined;
    chatJid = resolveIdentity(remoteJid, alt, opts, links);
  }

  let sender: string;
  if (fromMe) {
    sender = opts.self.pn ?? (opts.self.lid ? opts.canonical(opts.self.lid) : null) ?? 'me';
  } else if (isGroup) {
    const participant = key.participant ?? '';
    const alt =
      key.participantAlt ?? legacy.participantPn ?? legacy.participantLid ?? legacy.senderPn ?? legacy.senderLid;
    sender = participant ? resolveIdentity(participant, alt, opts, links) : 'unknown';
  } else {
    sender = chatJid;
  }

  const fromAssistant =
    fromMe &&
    (opts.hasOwnNumber ||
      !!opts.sentByUs?.(key.id) ||
      // Shared number: the assistant's replies carry its name, the user's own messages do not.
      body.text.startsWith(`${opts.assistantName}: `));

  let replyTo: Message['replyTo'] = null;
  const ctx = body.contextInfo;
  if (ctx?.stanzaId) {
    const quoted = ctx.quotedMessage ? readContent(normalizeMessageContent(ctx.quotedMessage) ?? {}) : null;
    replyTo = {
      id: ctx.stanzaId,
      text: quoted?.text || undefined,
      sender: ctx.participant ? resolveIdentity(ctx.participant, undefined, opts, links) : undefined,
    };
  }

  const addressed = addressedToAssistant(ctx, opts);

  const seconds = toNumber(wa.messageTimestamp);
  const date = seconds && seconds > 0 ? new Date(seconds * 1000) : (opts.now ?? (() => new Date()))();

  const message: Message = {
    id: key.id,
    chatJid,
    sender,
    senderName: fromAssistant ? opts.assistantName : wa.pushName?.trim() || phoneOf(sender),
    text: body.text,
    timestamp: date.toISOString(),
    fromMe,
    fromAssistant,
    replyTo,
    ...(!fromAssistant && addressed.mentions ? { mentionsAssistant: true } : {}),
    ...(!fromAssistant && addressed.replies ? { repliesToAssistant: true } : {}),
  };
  return { message, media: body.media, links };
}

/**
 * Does the message @mention the assistant's account, or quote one of its
 * messages? On a shared number the account is the user's own: a mention of it
 * calls the user, not the assistant, so only a quoted assistant message counts.
 */
function addressedToAssistant(
  ctx: proto.IContextInfo | null | undefined,
  opts: ConvertOptions,
): { mentions: boolean; replies: boolean } {
  if (!ctx) return { mentions: false, replies: false };
  const mentions = opts.hasOwnNumber && (ctx.mentionedJid ?? []).some((j) => !!j && isSelf(j, opts.self));
  let replies = false;
  if (ctx.stanzaId && ctx.participant && isSelf(ctx.participant, opts.self)) {
    const quoted = ctx.quotedMessage ? readContent(normalizeMessageContent(ctx.quotedMessage) ?? {}) : null;
    replies =
      opts.hasOwnNumber || !!opts.sentByUs?.(ctx.stanzaId) || !!quoted?.text.startsWith(`${opts.assistantName}: `);
  }
  return { mentions, replies };
}

interface Body {
  text: string;
  media: MediaRef | null;
  contextInfo?: proto.IContextInfo | null;
}

/** Text (or a placeholder naming the media) and media of one message content. */
export function readContent(m: proto.IMessage): Body | null {
  if (typeof m.conversation === 'string' && m.conversation) {
    return { text: m.conversation, media: null };
  }
  if (m.extendedTextMessage) {
    const e = m.extendedTextMessage;
    return { text: e.text ?? '', media: null, contextInfo: e.contextInfo };
  }
  if (m.imageMessage) {
    const i = m.imageMessage;
    return {
      text: i.caption || '[image]',
      media: media('image', i.mimetype, i.fileLength),
      contextInfo: i.contextInfo,
    };
  }
  if (m.videoMessage) {
    const v = m.videoMessage;
    return {
      text: v.caption || '[video]',
      media: media('video', v.mimetype, v.fileLength),
      contextInfo: v.contextInfo,
    };
  }
  if (m.audioMessage) {
    const a = m.audioMessage;
    return {
      text: a.ptt ? '[voice message]' : '[audio]',
      media: media('audio', a.mimetype, a.fileLength),
      contextInfo: a.contextInfo,
    };
  }
  if (m.documentMessage) {
    const d = m.documentMessage;
    const name = cleanName(d.fileName ?? d.title ?? '');
    return {
      text: d.caption || (name ? `[document: ${name}]` : '[document]'),
      media: media('document', d.mimetype, d.fileLength),
      contextInfo: d.contextInfo,
    };
  }
  if (m.stickerMessage) {
    const s = m.stickerMessage;
    return { text: '[sticker]', media: media('sticker', s.mimetype, s.fileLength), contextInfo: s.contextInfo };
  }
  if (m.locationMessage || m.liveLocationMessage) {
    const l = (m.locationMessage ?? m.liveLocationMessage)!;
    const where = [l.degreesLatitude, l.degreesLongitude].every((n) => typeof n === 'number')
      ? `${l.degreesLatitude}, ${l.degreesLongitude}`
      : '';
    const label = cleanName((m.locationMessage?.name ?? '') || (m.locationMessage?.address ?? ''));
    return { text: `[location: ${[label, where].filter(Boolean).join(' ')}]`, media: null, contextInfo: l.contextInfo };
  }
  if (m.contactMessage) {
    return {
      text: `[contact: ${cleanName(m.contactMessage.displayName ?? '')}]`,
      media: null,
      contextInfo: m.contactMessage.contextInfo,
    };
  }
  return null;
}

function media(kind: Attachment['kind'], mimeType: string | null | undefined, size: unknown): MediaRef {
  return { kind, mimeType: mimeType ?? undefined, size: toNumber(size) };
}

/**
 * One identity per person: when WhatsApp names the sender both by LID and by
 * phone JID, the LID becomes an alias of the phone JID; otherwise a link seen
 * earlier decides.
 */
function resolveIdentity(
  primary: string,
  alt: string | null | undefined,
  opts: ConvertOptions,
  links: IdentityLink[],
): string {
  const p = jidNormalizedUser(primary) || primary;
  const a = alt ? jidNormalizedUser(alt) : '';
  const lid = isLidUser(p) ? p : isLidUser(a) ? a : null;
  const pn = isPnUser(p) ? p : isPnUser(a) ? a : null;
  if (lid && pn) {
    links.push({ alias: lid, canonical: pn });
    return pn;
  }
  return opts.canonical(p);
}

function isSelf(jid: string, self: ConvertOptions['self']): boolean {
  const j = jidNormalizedUser(jid);
  return j === self.pn || j === self.lid;
}

/** The phone number of a phone JID, or the id itself. */
function phoneOf(jid: string): string {
  return isPnUser(jid) ? `+${jid.split('@')[0]}` : jid;
}

/** A file or place name fit for one line of text. */
function cleanName(s: string): string {
  return s
    .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}

/** Numbers as Baileys hands them over: number, protobuf Long, Long as JSON, or string. */
export function toNumber(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const n = Number(v);
    return v.trim() && Number.isFinite(n) ? n : undefined;
  }
  if (typeof v === 'object') {
    const o = v as { toNumber?: () => number; low?: unknown; high?: unknown };
    if (typeof o.toNumber === 'function') return o.toNumber();
    if (typeof o.low === 'number' && typeof o.high === 'number') return o.high * 2 ** 32 + (o.low >>> 0);
  }
  return undefined;
}

// Only these types get their own extension; anything else is saved as .bin so
// a sender can never choose an executable or a path by naming the file.
const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/heic': 'heic',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'audio/wav': 'wav',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'application/json': 'json',
  'application/zip': 'zip',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
};

export function extensionFor(mimeType: string | undefined): string {
  const base = (mimeType ?? '').split(';')[0].trim().toLowerCase();
  return EXTENSIONS[base] ?? 'bin';
}

/** `<ms>-<hex>.<ext>`: never derived from anything the sender chose but the (whitelisted) type. */
export function inboxFileName(mimeType: string | undefined, nowMs: number, randomHex: string): string {
  return `${nowMs}-${randomHex.replace(/[^0-9a-f]/gi, '')}.${extensionFor(mimeType)}`;
}
