// Text shaping for Slack, both ways: the agent's Markdown into Slack's mrkdwn,
// replies split below Slack's message size, and Slack's inbound markup
// (`<@U123>`, `<#C1|name>`, `<url|label>`, HTML entities) back into plain text.
// Pure functions, no I/O.
import { splitText } from '../../kit/text.js';

/** Where replies are split: Slack truncates a message's text at 40,000 characters, and long ones read badly well before. */
export const SLACK_TEXT_LIMIT = 4_000;

export function splitSlackText(text: string, limit = SLACK_TEXT_LIMIT): string[] {
  return splitText(text, limit);
}

const FENCE = /```[\w+#.-]*[^\S\n]*\n?([\s\S]*?)```/g;
const INLINE_CODE = /`[^`\n]+`/g;

/** Slack reserves only these three characters; everything else shows as typed. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const INLINE = new RegExp(
  [
    String.raw`\*\*(?<bold>[^\s*](?:[^*\n]*[^\s*])?)\*\*`,
    String.raw`__(?<bold2>[^\s_](?:[^_\n]*[^\s_])?)__`,
    String.raw`~~(?<strike>[^\s~](?:[^~\n]*[^\s~])?)~~`,
    String.raw`(?<![\w*\\])\*(?<italic>[^\s*](?:[^*\n]*[^\s*])?)\*(?![\w*])`,
    String.raw`\[(?<label>[^\]\n]+)\]\((?<url>https?:\/\/[^\s()]+)\)`,
    String.raw`^#{1,6}[ \t]+(?<heading>[^\n]+)$`,
  ].join('|'),
  'gm',
);

/**
 * The agent's Markdown as Slack mrkdwn: **bold** → *bold*, *italic* → _italic_,
 * ~~strike~~ → ~strike~, [label](url) → <url|label>, headings bold; code (fenced
 * and inline) is kept as is, with only &, < and > escaped as Slack requires.
 */
export function toMrkdwn(markdown: string): string {
  return outsideCode(markdown, (plain) =>
    escapeMrkdwn(plain).replace(INLINE, (...args) => {
      const g = args[args.length - 1] as Record<string, string | undefined>;
      if (g.bold ?? g.bold2) return `*${g.bold ?? g.bold2}*`;
      if (g.strike) return `~${g.strike}~`;
      if (g.italic) return `_${g.italic}_`;
      if (g.label && g.url) return `<${g.url.replace(/&amp;/g, '&')}|${g.label.replace(/\|/g, '¦')}>`;
      if (g.heading) return `*${g.heading.replace(/\*+/g, '')}*`;
      return args[0] as string;
    }),
  );
}

/** Applies `convert` to the text outside code, and only escapes the code itself. */
function outsideCode(text: string, convert: (plain: string) => string): string {
  const pieces: string[] = [];
  let last = 0;
  const codes = [...text.matchAll(new RegExp(`${FENCE.source}|${INLINE_CODE.source}`, 'g'))];
  for (const m of codes) {
    pieces.push(convert(text.slice(last, m.index)));
    const code = m[0].startsWith('```') ? '```\n' + (m[1] ?? '').replace(/\n$/, '') + '\n```' : m[0];
    pieces.push(escapeMrkdwn(code));
    last = m.index + m[0].length;
  }
  pieces.push(convert(text.slice(last)));
  return pieces.join('');
}

export interface InboundNames {
  botUserId: string;
  assistantName: string;
  /** A user's display name, if known (else the id is shown). */
  userName(id: string): string | undefined;
}

/**
 * Slack's markup as a person reads it. A mention of the bot becomes `@<assistant
 * name>`, so "<@UBOT> hi" reads "@Andy hi" and matches the trigger; other
 * mentions become @name, channels #name, links their label (or the address).
 */
export function fromSlackText(text: string, names: InboundNames): string {
  return text
    .replace(/<([^<>\s][^<>]*)>/g, (_, inner: string) => {
      const [target, label] = splitOnce(inner, '|');
      if (target.startsWith('@')) {
        const id = target.slice(1);
        if (id === names.botUserId) return `@${names.assistantName}`;
        return `@${label || names.userName(id) || id}`;
      }
      if (target.startsWith('#')) return `#${label || target.slice(1)}`;
      if (target.startsWith('!')) return `@${label || target.slice(1).split('^')[0]}`;
      return label && label !== target ? `${label} (${target})` : target;
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Does the raw text mention the bot's own account (as Slack marked it, not as the text merely reads)? */
export function mentionsUser(text: string, userId: string): boolean {
  return new RegExp(`<@${userId}(\\|[^>]*)?>`).test(text);
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}
