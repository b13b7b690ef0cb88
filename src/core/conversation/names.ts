// Names members choose, cleaned of invisible characters so one cannot pass for another.
import crypto from 'node:crypto';

// Format (zero-width, bidi), control, lone surrogate, separator, filler and variation selector characters.
// eslint-disable-next-line no-misleading-character-class
const INVISIBLE = /[\p{Cf}\p{Cc}\p{Cs}\u2028\u2029\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/gu;

const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;

export function cleanName(name: string): string {
  return name
    .replace(LINE_BREAKS, ' ')
    .replace(INVISIBLE, '')
    .replace(/[\s\p{Z}]+/gu, ' ')
    .trim();
}

/** Stable across messages and chats: the model can tell two "Sam"s apart. */
export function senderId(sender: string): string {
  return 'm' + crypto.createHash('sha256').update(`nanoclaw-sender:${sender}`).digest('hex').slice(0, 8);
}

// Letters from other scripts that look like Latin ones (the ones NFKC leaves alone), and the letter each looks like.
const LOOKALIKES = 'авеёкмнорстухіїјѕԁԛԝүһαβεηικμνορτυχωϲϳɑɡɩɪʏᴀᴏᴜıȷ01|';
const LATIN = 'abeekmhopctyxiijsdqwyhabenikuvoptuxwcjagiiyaouijoll';

// "Ａｎｄｙ", "A n d y", "Аndy" (Cyrillic А) and "andy!" all look like "andy".
function nameLooks(name: string): string {
  const folded = cleanName(name).normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  return [...folded]
    .map((c) => LATIN[LOOKALIKES.indexOf(c)] ?? c)
    .join('')
    .replace(/[^\p{L}\p{N}]/gu, '');
}

const OWNER_WORDS = ['You', 'Owner', 'Me', 'Myself', 'Admin', 'Administrator', 'System'];

// A persona that looks like the owner or the assistant would let text any member fed the agent speak as them.
export function personaProblem(persona: string, reserved: { assistantName: string; ownerNames?: string[] }) {
  const clean = cleanName(persona);
  const looks = nameLooks(clean);
  if (!looks)
    return 'The persona name is empty once invisible characters and punctuation are removed; give the sub-agent a visible name such as "Researcher".';
  if (looks === nameLooks(reserved.assistantName))
    return `The persona "${clean}" looks like the assistant's own name (${reserved.assistantName}); leave "sender" out to speak as ${reserved.assistantName}, or pick a different persona name.`;
  const owner = [...OWNER_WORDS, ...(reserved.ownerNames ?? [])].find((n) => nameLooks(n) === looks);
  if (owner)
    return `The persona "${clean}" looks like the owner's name ("${cleanName(owner)}"); a persona may never pass for the owner. Pick a different persona name.`;
  return null;
}
