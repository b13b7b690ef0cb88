// What one signal-cli `receive` event means for NanoClaw, decided from the
// payload alone: which chat, who wrote, the text (mentions written out), the
// quoted message, attachments to fetch. Receipts, typing and other events
// carry nothing to store. Pure functions, no I/O.
import { signalDirectJid, signalGroupJid } from './jids.js';

/** The `params` of signal-cli's `receive` notification, as its SSE stream sends it. */
export interface SignalReceive {
  account?: string;
  envelope?: SignalEnvelope;
}

export interface SignalEnvelope {
  source?: string;
  sourceNumber?: string | null;
  sourceUuid?: string;
  sourceName?: string;
  timestamp?: number;
  dataMessage?: SignalDataMessage;
  syncMessage?: { sentMessage?: SignalSentMessage };
  receiptMessage?: unknown;
  typingMessage?: unknown;
}

export interface SignalDataMessage {
  timestamp?: number;
  message?: string | null;
  groupInfo?: { groupId?: string; groupName?: string };
  quote?: { id?: number; author?: string; authorNumber?: string | null; authorUuid?: string; text?: string | null };
  mentions?: { name?: string; number?: string | null; uuid?: string; start?: number; length?: number }[];
  attachments?: SignalAttachment[];
}

export interface SignalSentMessage extends SignalDataMessage {
  destination?: string | null;
  destinationNumber?: string | null;
}

export interface SignalAttachment {
  id?: string;
  contentType?: string;
  filename?: string | null;
  size?: number;
  voiceNote?: boolean;
}

export interface InboundSignal {
  id: string;
  chatJid: string;
  isGroup: boolean;
  /** A group's name, when signal-cli knows it. */
  chatName?: string;
  /** The author's phone number (or `u:<uuid>` for an account that hides it). */
  author: string;
  authorName: string;
  text: string;
  timestamp: number;
  /** Written by the account itself on another device (the owner's phone): a sync message. */
  fromAccount: boolean;
  mentionsAccount: boolean;
  quote: { id: string; text?: string; author?: string; byAccount: boolean } | null;
  attachments: SignalAttachment[];
  /** Where signal-cli takes a getAttachment request for this message. */
  attachmentSource: { recipient: string } | { groupId: string };
}

/** A message's id: Signal names a message by its author and its send time. */
export function signalMessageId(author: string, timestamp: number): string {
  return `${author}:${timestamp}`;
}

export function parseReceive(
  payload: SignalReceive,
  opts: { account: string; assistantName: string },
): InboundSignal | null {
  const env = payload.envelope;
  if (!env) return null;
  const author = authorOf(env);
  if (!author) return null;
  const sent = env.syncMessage?.sentMessage;
  const data = sent ?? env.dataMessage;
  if (!data) return null;
  const fromAccount = !!sent || author === opts.account;
  const timestamp = data.timestamp ?? env.timestamp ?? Date.now();
  const groupId = data.groupInfo?.groupId;
  const peer = sent ? (sent.destinationNumber ?? sent.destination ?? opts.account) : author;
  const chatJid = groupId ? signalGroupJid(groupId) : signalDirectJid(peer);
  if (!groupId && !peer.startsWith('+')) return null;
  const { text, mentionsAccount } = writeMentions(data, opts);
  const attachments = (data.attachments ?? []).filter((a) => a.id);
  if (!text.trim() && !attachments.length) return null;
  return {
    id: signalMessageId(author, timestamp),
    chatJid,
    isGroup: !!groupId,
    chatName: data.groupInfo?.groupName || undefined,
    author,
    authorName: env.sourceName?.trim() || author,
    text,
    timestamp,
    fromAccount,
    mentionsAccount,
    quote: quoteOf(data, opts.account),
    attachments,
    attachmentSource: groupId ? { groupId } : { recipient: author },
  };
}

function authorOf(env: SignalEnvelope): string | null {
  const number = env.sourceNumber ?? (env.source?.startsWith('+') ? env.source : null);
  if (number) return number;
  const uuid = env.sourceUuid ?? env.source;
  return uuid ? `u:${uuid}` : null;
}

/**
 * Signal puts U+FFFC in the text where a mention sits; the mention list says who.
 * A mention of the account becomes `@<assistant name>`, so the trigger reads it.
 */
function writeMentions(
  data: SignalDataMessage,
  opts: { account: string; assistantName: string },
): { text: string; mentionsAccount: boolean } {
  let text = data.message ?? '';
  let mentionsAccount = false;
  const mentions = [...(data.mentions ?? [])]
    .filter((m) => typeof m.start === 'number')
    .sort((a, b) => b.start! - a.start!);
  for (const m of mentions) {
    const isAccount = m.number === opts.account;
    mentionsAccount ||= isAccount;
    const name = isAccount ? opts.assistantName : m.name || m.number || 'someone';
    text = text.slice(0, m.start) + `@${name}` + text.slice(m.start! + (m.length ?? 1));
  }
  return { text, mentionsAccount };
}

function quoteOf(data: SignalDataMessage, account: string): InboundSignal['quote'] {
  const q = data.quote;
  if (!q || typeof q.id !== 'number') return null;
  const author = q.authorNumber ?? q.author ?? (q.authorUuid ? `u:${q.authorUuid}` : undefined);
  return {
    id: author ? signalMessageId(author, q.id) : String(q.id),
    text: q.text ?? undefined,
    author,
    byAccount: author === account,
  };
}
