// Names chat members choose (display names, sub-agent personas) before they
// reach a prompt or a chat: invisible and direction-changing characters are
// removed, a short stable id tells senders apart, and a persona may not pass
// for the owner or the assistant.
import crypto from 'node:crypto';

/**
 * Format characters (Cf: zero-width, bidi embeddings/overrides/isolates, BOM,
 * soft hyphen...), controls (Cc), lone surrogates, line/paragraph separators and variation
 * selectors. None of them is visible, and each can make one name look like another.
 */
// Variation selectors are listed on purpose, to be removed on their own.
// eslint-disable-next-line no-misleading-character-class
const INVISIBLE = /[\p{Cf}\p{Cc}\p{Cs}\u2028\u2029\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/gu;

const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;

/** A name with the invisible characters removed and runs of spacing collapsed. */
export function cleanName(name: string): string {
  return name
    .replace(LINE_BREAKS, ' ')
    .replace(INVISIBLE, '')
    .replace(/[\s\p{Z}]+/gu, ' ')
    .trim();
}

/** A short id for a sender, stable across messages and chats: the model can tell two "Sam"s apart. */
export function senderId(sender: string): string {
  return 'm' + crypto.createHash('sha256').update(`nanoclaw-sender:${sender}`).digest('hex').slice(0, 8);
}

// Letters from other scripts that look like Latin ones (the ones NFKC leaves alone).
const CONFUSABLE: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ү: 'y',
  һ: 'h',
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  μ: 'u',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ω: 'w',
  ϲ: 'c',
  ϳ: 'j',
  ɑ: 'a',
  ɡ: 'g',
  ɩ: 'i',
  ɪ: 'i',
  ʏ: 'y',
  ᴀ: 'a',
  ᴏ: 'o',
  ᴜ: 'u',
  ı: 'i',
  ȷ: 'j',
  '0': 'o',
  '1': 'l',
  '|': 'l',
};

/**
 * What a name looks like, for comparing names: compatibility forms folded
 * (full-width, ligatures, math letters), accents and invisible characters
 * dropped, lookalike letters mapped to Latin, case and everything but letters
 * and digits ignored. "Ａｎｄｙ", "A n d y", "Аndy" (Cyrillic А) and "andy!" all look like "andy".
 */
export function nameLooks(name: string): string {
  const folded = cleanName(name).normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  return [...folded]
    .map((c) => CONFUSABLE[c] ?? c)
    .join('')
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** Names the owner goes by on every channel, whatever the chat's own history says. */
const OWNER_WORDS = ['You', 'Owner', 'Me', 'Myself', 'Admin', 'Administrator', 'System'];

export interface ReservedNames {
  assistantName: string;
  /** Names the owner's own messages (fromMe) carried in this chat. */
  ownerNames?: string[];
}

/**
 * Why a sub-agent persona may not be used, or null when it may. A persona
 * that looks like the owner's or the assistant's name would let text the
 * agent was fed (by any member) speak in the chat as them.
 */
export function personaProblem(persona: string, reserved: ReservedNames): string | null {
  const clean = cleanName(persona);
  if (!nameLooks(clean))
    return 'The persona name is empty once invisible characters and punctuation are removed; give the sub-agent a visible name such as "Researcher".';
  const looks = nameLooks(clean);
  if (looks === nameLooks(reserved.assistantName)) {
    return `The persona "${clean}" looks like the assistant's own name (${reserved.assistantName}); leave "sender" out to speak as ${reserved.assistantName}, or pick a different persona name.`;
  }
  const owner = [...OWNER_WORDS, ...(reserved.ownerNames ?? [])].find((n) => nameLooks(n) && nameLooks(n) === looks);
  if (owner)
    return `The persona "${clean}" looks like the owner's name ("${cleanName(owner)}"); a persona may never pass for the owner. Pick a different persona name.`;
  return null;
}
