import type { ToolAnswer } from '../../../runner/protocol.js';

export const refuse = (error: string): ToolAnswer => ({ ok: false, error });
export const ok = (text: string): ToolAnswer => ({ ok: true, text });
