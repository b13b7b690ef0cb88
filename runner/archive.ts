// Saves a transcript as markdown in `conversations/` before the SDK compacts it, so nothing is lost silently.
import fs from 'node:fs';
import path from 'node:path';

interface Entry {
  type?: string;
  isMeta?: boolean;
  isSidechain?: boolean;
  timestamp?: string;
  message?: { role?: string; content?: unknown };
}

export interface Turn {
  role: 'user' | 'assistant';
  time: string | null;
  text: string;
}

const MAX_TOOL_INPUT = 300;

function blocksToText(content: unknown, role: 'user' | 'assistant'): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const b of content as any[]) {
    if (b?.type === 'text' && typeof b.text === 'string') parts.push(b.text);
    else if (b?.type === 'image') parts.push('_(image)_');
    else if (role === 'assistant' && b?.type === 'tool_use') {
      let input = JSON.stringify(b.input ?? {});
      if (input.length > MAX_TOOL_INPUT) input = input.slice(0, MAX_TOOL_INPUT) + '…';
      parts.push(`_(used ${String(b.name)}: ${input})_`);
    }
  }
  return parts.join('\n\n');
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
const unescape = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e) => ENTITIES[e]);

function readableChat(text: string): string {
  if (!text.includes('<message ')) return text;
  const out = [...text.matchAll(/<message sender="([^"]*)" time="([^"]*)"[^>]*>([\s\S]*?)<\/message>/g)].map(
    (m) => `**${unescape(m[1])}** (${unescape(m[2])}): ${unescape(m[3].replace(/<[^>]+>/g, ' ').trim())}`,
  );
  return out.length ? out.join('\n\n') : text;
}

export function parseTranscript(jsonl: string): Turn[] {
  const turns: Turn[] = [];
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    let e: Entry;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if ((e.type !== 'user' && e.type !== 'assistant') || e.isMeta || e.isSidechain || !e.message) continue;
    const raw = blocksToText(e.message.content, e.type).trim();
    const text = e.type === 'user' ? readableChat(raw) : raw;
    // Tool results are the bulk of a transcript and are not part of the conversation.
    if (!text) continue;
    turns.push({ role: e.type, time: e.timestamp ?? null, text });
  }
  return turns;
}

/** e.g. "flights-to-lisbon" */
export function slugFor(turns: Turn[]): string {
  const first = turns.find((t) => t.role === 'user')?.text ?? '';
  // A chat turn reads "**Sam** (time): text": the slug comes from the text.
  const inner = /^\*\*[^*]*\*\* \([^)]*\): (.*)$/m.exec(first)?.[1] ?? first;
  const words = inner
    .replace(/<[^>]+>/g, ' ')
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter(Boolean)
    .slice(0, 6);
  return words.join('-').slice(0, 50).replace(/-+$/, '') || 'conversation';
}

export function toMarkdown(
  turns: Turn[],
  opts: { assistantName: string; sessionId: string; archivedAt: Date },
): string {
  const fmt = (d: Date) => d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
  const lines = [
    `# Conversation archived ${fmt(opts.archivedAt)}`,
    '',
    `Session ${opts.sessionId}, saved before it was compacted into a summary.`,
    '',
  ];
  for (const t of turns) {
    const time = t.time ? ` · ${fmt(new Date(t.time))}` : '';
    lines.push(`## ${t.role === 'user' ? 'Chat' : opts.assistantName}${time}`, '', t.text, '');
  }
  return lines.join('\n');
}

// The sandbox runs in the user's TZ.
function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function archiveTranscript(
  transcriptPath: string,
  dir: string,
  opts: { assistantName: string; sessionId: string; now?: Date },
): string | null {
  let raw: string;
  try {
    raw = fs.readFileSync(transcriptPath, 'utf8');
  } catch {
    return null;
  }
  const turns = parseTranscript(raw);
  if (!turns.length) return null;
  const now = opts.now ?? new Date();
  fs.mkdirSync(dir, { recursive: true });
  const base = `${localDate(now)}-${slugFor(turns)}`;
  let file = path.join(dir, `${base}.md`);
  for (let i = 2; fs.existsSync(file); i++) file = path.join(dir, `${base}-${i}.md`);
  fs.writeFileSync(file, toMarkdown(turns, { ...opts, archivedAt: now }));
  return file;
}
