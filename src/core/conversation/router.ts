// Pure decisions about messages: is the assistant addressed, what does the
// catch-up prompt look like, and what does a reply look like on the way out.
import { cleanName, senderId } from './names.js';
import type { Message, RegisteredGroup } from '../types.js';

export function escapeRegExp(s: string): string {
  // No "-": it is literal outside a character class, and "\-" is a syntax error under the u flag.
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The trigger pattern: the group's trigger (default `@Name`) at the start of
 * the message, case-insensitive, followed by a word boundary. The name is
 * escaped, so a name like `A.I.(bot)` matches only itself.
 */
export function triggerPattern(trigger: string): RegExp {
  return new RegExp(`^\\s*${escapeRegExp(trigger.trim())}(?=$|[\\s,.:;!?'"’)\\]}])`, 'iu');
}

export function defaultTrigger(assistantName: string): string {
  return `@${assistantName}`;
}

export interface TriggerContext {
  /** Extra ways a channel lets users address the bot, e.g. a Telegram @mention. */
  mentions?: string[];
}

export function isTriggered(
  group: RegisteredGroup,
  msg: Pick<Message, 'text' | 'fromAssistant' | 'mentionsAssistant' | 'repliesToAssistant' | 'attachments'>,
  ctx: TriggerContext = {},
): boolean {
  if (msg.fromAssistant) return false;
  if (group.isMain || !group.requiresTrigger) return true;
  // What the channel knows (a mention of the bot's account, a reply to it) addresses the assistant as the trigger does.
  if (msg.mentionsAssistant || msg.repliesToAssistant) return true;
  if (triggerPattern(group.trigger).test(msg.text)) return true;
  // Nobody says the "@": a spoken "Andy, …" calls the assistant like a typed "@Andy …".
  if (isVoiceNote(msg) && triggerPattern(group.trigger.trim().replace(/^@/, '')).test(msg.text)) return true;
  return (ctx.mentions ?? []).some((m) => triggerPattern(m).test(msg.text));
}

/** A transcribed (or failed) voice note: its text is what was said. */
export function isVoiceNote(msg: Pick<Message, 'attachments'>): boolean {
  return !!msg.attachments?.some((a) => a.kind === 'audio' && a.transcript !== undefined);
}

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A timestamp as the user would read it, in their time zone. */
export function localTime(iso: string, timeZone: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: 'short',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    }).format(d);
  } catch {
    return d.toISOString();
  }
}

/**
 * Who wrote a message, as attributes: the name they chose (cleaned of
 * invisible characters), a stable id from the channel's sender id, and
 * `role="owner"` only when the channel says the owner's own account sent it.
 * A name alone never makes anyone the owner or the assistant.
 */
function senderAttrs(m: Message, assistantName: string): string[] {
  const attrs = [`sender="${escapeXml(cleanName(m.senderName) || cleanName(m.sender))}"`];
  if (m.fromAssistant) return [...attrs, `from="${escapeXml(assistantName)}"`];
  attrs.push(`sender_id="${senderId(m.sender)}"`);
  if (m.fromMe) attrs.push('role="owner"');
  return attrs;
}

/**
 * The catch-up prompt: every message since the assistant last answered, each
 * with sender and local time. All text is escaped, so a message or a sender
 * name can never close a tag or invent a message of its own.
 */
export function formatCatchUp(messages: Message[], timeZone: string, opts: { assistantName?: string } = {}): string {
  const lines = messages.map((m) => {
    const [sender, ...who] = senderAttrs(m, opts.assistantName ?? 'assistant');
    const attrs = [sender, `time="${escapeXml(localTime(m.timestamp, timeZone))}"`, ...who];
    const parts: string[] = [];
    if (m.replyTo?.id) {
      const quoted = m.replyTo.text ? escapeXml(m.replyTo.text.slice(0, 500)) : '';
      parts.push(`<quote sender="${escapeXml(cleanName(m.replyTo.sender ?? ''))}">${quoted}</quote>`);
    }
    for (const a of m.attachments ?? []) {
      if (a.kind === 'audio' && a.transcript !== undefined) {
        parts.push(
          `<voice_note path="${escapeXml('/workspace/group/' + a.path)}" transcribed="${a.transcript ? 'yes' : 'no'}"/>`,
        );
        continue;
      }
      parts.push(`<attachment kind="${escapeXml(a.kind)}" path="${escapeXml('/workspace/group/' + a.path)}"/>`);
    }
    parts.push(escapeXml(m.text));
    return `<message ${attrs.join(' ')}>${parts.join('\n')}</message>`;
  });
  return `<messages>\n${lines.join('\n')}\n</messages>`;
}

/** Removes `<internal>…</internal>` reasoning the agent wrote for itself. */
export function stripInternal(text: string): string {
  return text.replace(/<internal>[\s\S]*?(<\/internal>|$)/gi, '').trim();
}

/**
 * Prepares a reply for a channel: internal reasoning stripped; where the
 * assistant speaks through the user's own account, prefixed with its name (or
 * the persona that sent it) so everyone can tell who is talking.
 */
export function formatOutbound(
  text: string,
  opts: { sharesUserAccount: boolean; assistantName: string; persona?: string | null },
): string {
  const clean = stripInternal(text);
  if (!clean) return '';
  const persona = opts.persona ? cleanName(opts.persona) : '';
  if (!opts.sharesUserAccount) return persona ? `${persona}: ${clean}` : clean;
  const speaker = persona || opts.assistantName;
  return clean.startsWith(`${speaker}: `) ? clean : `${speaker}: ${clean}`;
}
