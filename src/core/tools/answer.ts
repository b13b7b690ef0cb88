import type { ToolAnswer } from '../../../runner/protocol.js';

export const refuse = (error: string): ToolAnswer => ({ ok: false, error });
export const ok = (text: string): ToolAnswer => ({ ok: true, text });
/** Members choose names and texts: a line break in one could forge another item of a list. */
export const oneLine = (s: string): string => s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
