// Text shaping for Signal: the agent's Markdown becomes plain text plus
// signal-cli text styles (`start:length:STYLE`, in UTF-16 code units, which is
// how JavaScript indexes strings). Pure functions, no I/O.
export { splitText } from '../../kit/text.js';

/** A comfortable length for one Signal message; longer ones are split (Signal turns very long ones into attachments). */
export const SIGNAL_TEXT_LIMIT = 2000;

export interface StyledText {
  text: string;
  /** signal-cli's `textStyle` entries, e.g. `0:5:BOLD`. */
  styles: string[];
}

const FENCE = /```[\w+#.-]*[^\S\n]*\n([\s\S]*?)```/y;
const INLINE = [
  { re: /\*\*([^\s*](?:[^*\n]*[^\s*])?)\*\*/y, style: 'BOLD' },
  { re: /~~([^\s~](?:[^~\n]*[^\s~])?)~~/y, style: 'STRIKETHROUGH' },
  { re: /`([^`\n]+)`/y, style: 'MONOSPACE' },
  { re: /\*([^\s*](?:[^*\n]*[^\s*])?)\*(?![\w*])/y, style: 'ITALIC' },
  { re: /\|\|([^|\n]+)\|\|/y, style: 'SPOILER' },
];

/**
 * Markdown to Signal: fenced and inline code become MONOSPACE, **bold**, *italic*,
 * ~~strike~~ and ||spoiler|| their styles, the markers are dropped. Anything else
 * stays as typed. The text never grows, so a piece that fits the limit still fits.
 */
export function toSignalText(markdown: string): StyledText {
  let text = '';
  const styles: string[] = [];
  let i = 0;
  while (i < markdown.length) {
    const match = matchAt(markdown, i);
    if (match) {
      if (match.inner.length) styles.push(`${text.length}:${match.inner.length}:${match.style}`);
      text += match.inner;
      i += match.length;
      continue;
    }
    text += markdown[i];
    i++;
  }
  return { text, styles };
}

function matchAt(s: string, i: number): { inner: string; style: string; length: number } | null {
  // Italic needs a non-word character before it, so 2*3*4 and snake_case stay literal.
  const prev = i > 0 ? s[i - 1]! : ' ';
  FENCE.lastIndex = i;
  const fence = FENCE.exec(s);
  if (fence) return { inner: fence[1]!.replace(/\n$/, ''), style: 'MONOSPACE', length: fence[0].length };
  for (const { re, style } of INLINE) {
    if (style === 'ITALIC' && /[\w*\\]/.test(prev)) continue;
    re.lastIndex = i;
    const m = re.exec(s);
    if (m) return { inner: m[1]!, style, length: m[0].length };
  }
  return null;
}
