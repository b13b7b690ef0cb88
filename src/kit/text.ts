// Text shaped the same way for every chat app: split at a length limit, user-chosen names made safe.

/** Prefers paragraph, then line breaks, then spaces; drops blank pieces, which platforms reject. */
export function splitText(text: string, limit: number): string[] {
  const chunks: string[] = [];
  let rest = text.replace(/^\n+/, '');
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1);
    const cut =
      ['\n\n', '\n', ' '].map((sep) => window.lastIndexOf(sep, limit)).find((i) => i > 0) ??
      // Never split a surrogate pair: half an emoji is an invalid string.
      (/[\uD800-\uDBFF]/.test(rest[limit - 1]!) ? limit - 1 : limit);
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n+/, '').replace(/^ /, '');
  }
  chunks.push(rest);
  return chunks.map((c) => c.replace(/\s+$/, '')).filter((c) => c.trim() !== '');
}

/** Safe inside a placeholder such as `[document: …]`: one bounded line, no controls, bidi or brackets. */
export function displayName(name: string | undefined, max = 100): string {
  const clean = (name ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, ' ')
    .replace(/\[/g, '(')
    .replace(/\]/g, ')')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > max ? clean.slice(0, max - 1).trimEnd() + '…' : clean;
}
