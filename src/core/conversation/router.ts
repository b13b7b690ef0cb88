// Pure decisions: is the assistant addressed, the catch-up prompt, and a reply on its way out.
import { cleanName, senderId } from './names.js';
import type { Attachment, Message, RegisteredGroup } from '../types.js';

export function triggerPattern(trigger: string): RegExp {
  // No "-" escaped: it is literal outside a character class, and "\-" is a syntax error under the u flag.
  const escaped = trigger.trim().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^\\s*${escaped}(?=$|[\\s,.:;!?'"’)\\]}])`, 'iu');
}

export function defaultTrigger(assistantName: string): string {
  return `@${assistantName}`;
}

export function isTriggered(
  group: RegisteredGroup,
  msg: Pick<Message, 'text' | 'fromAssistant' | 'mentionsAssistant' | 'repliesToAssistant' | 'attachments'>,
  ctx: { mentions?: string[] } = {},
): boolean {
  if (msg.fromAssistant) return false;
  if (group.isMain || !group.requiresTrigger || msg.mentionsAssistant || msg.repliesToAssistant) return true;
  // Nobody says the "@": a spoken "Andy, …" calls the assistant like a typed "@Andy …".
  const spoken = msg.attachments?.some(isTranscribed) ? [group.trigger.trim().replace(/^@/, '')] : [];
  return [group.trigger, ...spoken, ...(ctx.mentions ?? [])].some((t) => triggerPattern(t).test(msg.text));
}

const isTranscribed = (a: Attachment) => a.kind === 'audio' && a.transcript !== undefined;

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}

const TIME = {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
} as const;

export function localTime(iso: string, timeZone: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    return d.toLocaleString('en-GB', { ...TIME, timeZone });
  } catch {
    return d.toISOString();
  }
}

// All text is escaped, so a message or a name can never close a tag or invent a message of its own; only the
// channel makes anyone the owner or the assistant, never a chosen name.
export function formatCatchUp(messages: Message[], timeZone: string, opts: { assistantName?: string } = {}): string {
  const lines = messages.map((m) => {
    const attrs = [
      `sender="${escapeXml(cleanName(m.senderName) || cleanName(m.sender))}"`,
      `time="${escapeXml(localTime(m.timestamp, timeZone))}"`,
      m.fromAssistant ? `from="${escapeXml(opts.assistantName ?? 'assistant')}"` : `sender_id="${senderId(m.sender)}"`,
    ];
    if (m.fromMe && !m.fromAssistant) attrs.push('role="owner"');
    const parts: string[] = [];
    if (m.replyTo?.id) {
      const quoted = escapeXml((m.replyTo.text ?? '').slice(0, 500));
      parts.push(`<quote sender="${escapeXml(cleanName(m.replyTo.sender ?? ''))}">${quoted}</quote>`);
    }
    for (const a of m.attachments ?? []) {
      const path = escapeXml('/workspace/group/' + a.path);
      parts.push(
        isTranscribed(a)
          ? `<voice_note path="${path}" transcribed="${a.transcript ? 'yes' : 'no'}"/>`
          : `<attachment kind="${escapeXml(a.kind)}" path="${path}"/>`,
      );
    }
    parts.push(escapeXml(m.text));
    return `<message ${attrs.join(' ')}>${parts.join('\n')}</message>`;
  });
  return `<messages>\n${lines.join('\n')}\n</messages>`;
}

export function stripInternal(text: string): string {
  return text.replace(/<internal>[\s\S]*?(<\/internal>|$)/gi, '').trim();
}

// Through the user's own account, a reply is prefixed with who speaks so everyone can tell.
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
