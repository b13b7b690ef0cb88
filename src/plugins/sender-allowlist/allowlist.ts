// Who may trigger the assistant in which chat, and whether others' messages are kept as context or dropped.
// ~/.config/nanoclaw/sender-allowlist.json, re-read when it changes; missing: everyone, everything kept.
//   { "default": { "allow": "*", "others": "context" },
//     "chats": { "12345@g.us": { "allow": ["447700900123@s.whatsapp.net"], "others": "drop" } } }
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const rule = z.object({
  allow: z.union([z.literal('*'), z.array(z.string().min(1)).max(1000)]).default('*'),
  others: z.enum(['context', 'drop']).default('context'),
});
const schema = z.object({ default: rule.optional(), chats: z.record(z.string(), rule).default({}) });

export type SenderRule = z.infer<typeof rule>;

export interface SenderAllowlist {
  canTrigger(chatJid: string, sender: string): boolean;
  keeps(chatJid: string, sender: string): boolean;
  /** Why the file is broken, if it is. */
  problem(): string | null;
}

export function senderAllowlistPath(configDir: string): string {
  return path.join(configDir, 'sender-allowlist.json');
}

export function loadSenderAllowlist(configDir: string): SenderAllowlist {
  const file = senderAllowlistPath(configDir);
  let mtime = -1;
  let parsed: z.infer<typeof schema> = { chats: {} };
  let problem: string | null = null;

  const current = () => {
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(file);
    } catch {
      /* no file: allow all */
    }
    const m = st ? st.mtimeMs : 0;
    if (m === mtime) return parsed;
    mtime = m;
    problem = null;
    if (!st) return (parsed = { chats: {} });
    try {
      parsed = schema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
    } catch (err) {
      // A broken file must not silently open chats that were closed: deny triggers from anyone not the owner.
      problem = `${file} is not valid (${(err as Error).message.slice(0, 200)}); fix it — until then only your own messages trigger the assistant.`;
      parsed = { default: { allow: [], others: 'context' }, chats: {} };
    }
    return parsed;
  };

  const ruleFor = (chatJid: string): SenderRule => {
    const p = current();
    return p.chats[chatJid] ?? p.default ?? { allow: '*', others: 'context' };
  };
  const allowed = (r: SenderRule, sender: string) => r.allow === '*' || r.allow.includes(sender);

  return {
    canTrigger: (chatJid, sender) => allowed(ruleFor(chatJid), sender),
    keeps: (chatJid, sender) => {
      const r = ruleFor(chatJid);
      return allowed(r, sender) || r.others === 'context';
    },
    problem: () => {
      current();
      return problem;
    },
  };
}
