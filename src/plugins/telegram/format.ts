// Text shaping for Telegram: turning the agent's Markdown into MarkdownV2.
// Pure functions, no I/O (splitting and safe names are in ../text.ts).

/** Telegram's limit on one message's text, after entity parsing. */
export const TELEGRAM_TEXT_LIMIT = 4096;

// Every character MarkdownV2 reserves outside entities.
const RESERVED = /[_*[\]()~`>#+\-=|{}.!\\]/g;

export function escapeMarkdownV2(text: string): string {
  return text.replace(RESERVED, '\\$&');
}

// Inside `code` and ```pre```, only the backtick and the backslash are special.
function escapeCode(text: string): string {
  return text.replace(/[`\\]/g, '\\$&');
}

// Inside the (...) of a link, only `)` and the backslash are special.
function escapeUrl(url: string): string {
  return url.replace(/[)\\]/g, '\\$&');
}

const FENCE = /```([\w+#.-]*)[^\S\n]*\n([\s\S]*?)```/g;
const INLINE_CODE = /`([^`\n]+)`/g;

// The subset of the agent's Markdown we translate; everything else is escaped
// and shows as typed. Italic needs a non-word character around the stars so
// "2*3*4" and snake_case stay literal.
const INLINE = new RegExp(
  [
    String.raw`\*\*(?<bold>[^\s*](?:[^*\n]*[^\s*])?)\*\*`,
    String.raw`~~(?<strike>[^\s~](?:[^~\n]*[^\s~])?)~~`,
    String.raw`(?<![\w*\\])\*(?<italic>[^\s*](?:[^*\n]*[^\s*])?)\*(?![\w*])`,
    String.raw`\[(?<label>[^\]\n]+)\]\((?<url>https?:\/\/[^\s()]+)\)`,
    String.raw`^#{1,6}[ \t]+(?<heading>[^\n]+)$`,
  ].join('|'),
  'gm',
);

/**
 * Converts the agent's Markdown into Telegram MarkdownV2: fenced code blocks,
 * `inline code`, **bold**, *italic*, ~~strike~~, [links](https://…) and
 * headings (shown bold). Anything else is escaped so it can never break parsing.
 * The parsed text is never longer than the input, so a piece that fits the
 * limit before conversion still fits after.
 */
export function toMarkdownV2(markdown: string): string {
  return replaceOutside(
    markdown,
    FENCE,
    (m) => {
      const lang = m[1] ? m[1] : '';
      return '```' + lang + '\n' + escapeCode(m[2]!) + '```';
    },
    (plain) => replaceOutside(plain, INLINE_CODE, (m) => '`' + escapeCode(m[1]!) + '`', convertInline),
  );
}

function convertInline(text: string): string {
  return replaceOutside(
    text,
    INLINE,
    (m) => {
      const g = m.groups!;
      if (g.bold !== undefined) return `*${escapeMarkdownV2(g.bold)}*`;
      if (g.strike !== undefined) return `~${escapeMarkdownV2(g.strike)}~`;
      if (g.italic !== undefined) return `_${escapeMarkdownV2(g.italic)}_`;
      if (g.label !== undefined) return `[${escapeMarkdownV2(g.label)}](${escapeUrl(g.url!)})`;
      return `*${escapeMarkdownV2(g.heading!.replace(/\*\*/g, '').trim())}*`;
    },
    escapeMarkdownV2,
  );
}

/** Applies `onMatch` to each match of `re` and `between` to the text between matches. */
function replaceOutside(
  text: string,
  re: RegExp,
  onMatch: (m: RegExpExecArray) => string,
  between: (s: string) => string,
): string {
  let out = '';
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out += between(text.slice(last, m.index)) + onMatch(m);
    last = m.index + m[0].length;
    if (m[0].length === 0) re.lastIndex++;
  }
  return out + between(text.slice(last));
}

/** Is this Bot API error a MarkdownV2 parse failure (so plain text would work)? */
export function isParseError(description: string): boolean {
  return /can't parse entities|can't find end of/i.test(description);
}
