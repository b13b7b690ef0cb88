// Text shaping for Discord: replies split at the 2000-character limit without
// breaking a code block, and the raw mention markup of incoming messages
// (`<@123>`) turned into the names people see. Pure functions, no I/O.

/** Discord's limit on one message's content. */
export const DISCORD_TEXT_LIMIT = 2000;

const FENCE_LINE = /^[ \t]*(```+|~~~+)([^\n`]*)$/;
const CLOSE_FENCE = '\n```';

/**
 * Splits text into messages of at most `limit` characters, preferring
 * paragraph breaks, then line breaks, then spaces. A piece that ends inside a
 * fenced code block closes it, and the next piece reopens it with the same
 * language, so every message renders on its own. Blank pieces are dropped.
 */
export function splitDiscordText(text: string, limit = DISCORD_TEXT_LIMIT): string[] {
  const chunks: string[] = [];
  let rest = text.replace(/^\n+/, '').replace(/\s+$/, '');
  let reopen = '';
  while (reopen.length + rest.length > limit) {
    const budget = limit - reopen.length - CLOSE_FENCE.length;
    const cut = cutAt(rest, budget);
    const piece = reopen + rest.slice(0, cut).replace(/\s+$/, '');
    const open = openFenceAtEnd(piece);
    chunks.push(open ? piece + CLOSE_FENCE : piece);
    reopen = open ? open + '\n' : '';
    rest = rest.slice(cut).replace(/^\n+/, '').replace(/^ /, '');
  }
  chunks.push(reopen + rest);
  return chunks.filter((c) => c.trim() !== '');
}

/** Where to cut so the piece before is at most `budget` long: a paragraph, a line, a space, or hard. */
function cutAt(text: string, budget: number): number {
  const window = text.slice(0, budget + 1);
  for (const sep of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(sep, budget);
    if (at > 0) return at;
  }
  // Never split a surrogate pair: half an emoji is an invalid string.
  return /[\uD800-\uDBFF]/.test(text[budget - 1] ?? '') ? budget - 1 : budget;
}

/** The opening line of a code fence still open at the end of `text`, or ''. */
export function openFenceAtEnd(text: string): string {
  let open = '';
  for (const line of text.split('\n')) {
    const m = FENCE_LINE.exec(line);
    if (!m) continue;
    if (!open) open = `${m[1]}${m[2]!.trim()}`;
    else if (!m[2]!.trim() && m[1]!.startsWith(open[0]!)) open = '';
  }
  return open;
}

export interface MentionNames {
  /** The bot's own user id: its mention becomes the assistant's trigger form, `@<name>`. */
  botId: string;
  assistantName: string;
  user(id: string): string | undefined;
  role(id: string): string | undefined;
  channel(id: string): string | undefined;
}

/**
 * Replaces Discord's mention markup with readable names: the bot's own mention
 * with `@<assistant name>` (so "<@bot> hi" reads, and triggers, as "@Andy hi"),
 * other users' with `@name`, roles' with `@role`, channels' with `#channel`.
 */
export function readableMentions(content: string, names: MentionNames): string {
  return content
    .replace(/<@!?(\d+)>/g, (_m, id: string) =>
      id === names.botId ? `@${names.assistantName}` : `@${clean(names.user(id)) || 'unknown-user'}`,
    )
    .replace(/<@&(\d+)>/g, (_m, id: string) => `@${clean(names.role(id)) || 'unknown-role'}`)
    .replace(/<#(\d+)>/g, (_m, id: string) => `#${clean(names.channel(id)) || 'unknown-channel'}`);
}

/** A name a user chose, on one line, without markup that could forge another mention. */
function clean(name: string | undefined): string {
  return (name ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff<>]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 100);
}
