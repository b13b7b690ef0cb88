// Text shaping for Telegram: splitting replies at the message length limit,
// turning the agent's Markdown into MarkdownV2, and making user-supplied names
// safe to show as text. Pure functions, no I/O.

/** Telegram's limit on one message's text, after entity parsing. */
export const TELEGRAM_TEXT_LIMIT = 4096;

/**
 * Splits text into pieces of at most `limit` characters, preferring paragraph
 * breaks, then line breaks, then spaces, and cutting hard only when a single
 * word is longer than the limit. Blank pieces are dropped (Telegram rejects them).
 */
export function splitText(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  const chunks: string[] = [];
  let rest = text.replace(/^\n+/, '');
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1);
    let cut = lastBreak(window, '\n\n', limit);
    if (cut <= 0) cut = lastBreak(window, '\n', limit);
    if (cut <= 0) cut = lastBreak(window, ' ', limit);
    if (cut <= 0) {
      cut = limit;
      // Never split a surrogate pair: half an emoji is an invalid string.
      if (/[\uD800-\uDBFF]/.test(rest[cut - 1]!)) cut -= 1;
    }
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n+/, '').replace(/^ /, '');
  }
  chunks.push(rest);
  return chunks.map((c) => c.replace(/\s+$/, '')).filter((c) => c.trim() !== '');
}

/** Index where the separator starts, so the piece before it is at most `limit` long. */
function lastBreak(window: string, sep: string, limit: number): number {
  return window.lastIndexOf(sep, limit);
}

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
function replaceOutside(text: string, re: RegExp, onMatch: (m: RegExpExecArray) => string, between: (s: string) => string): string {
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

/**
 * A name a user chose (a file name, a title), made safe to show inside a
 * placeholder such as `[document: …]`: no control or direction-changing
 * characters, no brackets, one line, bounded length.
 */
export function displayName(name: string | undefined, max = 100): string {
  const clean = (name ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, ' ')
    .replace(/[[\]]/g, (c) => (c === '[' ? '(' : ')'))
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > max ? clean.slice(0, max - 1).trimEnd() + '…' : clean;
}
