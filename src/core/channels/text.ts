// Text every chat app needs shaped the same way: replies split at a platform's
// length limit, and names users chose made safe to show. Pure functions, no I/O.

/**
 * Splits text into pieces of at most `limit` characters, preferring paragraph
 * breaks, then line breaks, then spaces, and cutting hard only when a single
 * word is longer than the limit. Blank pieces are dropped (platforms reject them).
 */
export function splitText(text: string, limit: number): string[] {
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
