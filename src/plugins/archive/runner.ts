// Runs inside the sandbox, mounted alone at /app/plugins/archive.js: it may import only node built-ins (and types).
// Saves a transcript as markdown in conversations/ before the SDK compacts it, so nothing is lost silently.
import type { HookCallback, Options } from '@anthropic-ai/claude-agent-sdk';
import fs from 'node:fs';

const DIR = '/workspace/group/conversations';
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
const fmt = (d: Date) => d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

function blocksToText(content: unknown, role: string) {
  if (!Array.isArray(content)) return typeof content === 'string' ? content : '';
  return content
    .flatMap((b) => {
      if (b?.type === 'text' && typeof b.text === 'string') return [b.text];
      if (b?.type === 'image') return ['_(image)_'];
      if (role !== 'assistant' || b?.type !== 'tool_use') return [];
      const input = JSON.stringify(b.input ?? {});
      return [`_(used ${String(b.name)}: ${input.length > 300 ? input.slice(0, 300) + '…' : input})_`];
    })
    .join('\n\n');
}

// A chat turn's <message> elements, each as "**Sam** (time): text".
function readableChat(text: string) {
  const out = [...text.matchAll(/<message sender="([^"]*)" time="([^"]*)"[^>]*>([\s\S]*?)<\/message>/g)].map(
    (m) => `**${m[1]}** (${m[2]}): ${m[3].replace(/<[^>]+>/g, ' ').trim()}`,
  );
  return out.length ? out.join('\n\n').replace(/&(lt|gt|quot|apos|amp);/g, (_, e) => ENTITIES[e]) : text;
}

/** Writes e.g. 2026-01-05-flights-to-lisbon.md; null when there is nothing to save. */
function archive(transcriptPath: string, assistantName: string, sessionId: string) {
  let raw: string;
  try {
    raw = fs.readFileSync(transcriptPath, 'utf8');
  } catch {
    return null;
  }
  const turns = raw.split('\n').flatMap((line) => {
    let e: any;
    try {
      e = JSON.parse(line);
    } catch {
      return [];
    }
    if ((e.type !== 'user' && e.type !== 'assistant') || e.isMeta || e.isSidechain || !e.message) return [];
    const said = blocksToText(e.message.content, e.type).trim();
    const user = e.type === 'user';
    // Tool results are the bulk of a transcript and are not part of the conversation.
    return said ? [{ user, time: e.timestamp, text: user ? readableChat(said) : said }] : [];
  });
  if (!turns.length) return null;
  const first = turns.find((t) => t.user)?.text ?? '';
  const inner = (/^\*\*[^*]*\*\* \([^)]*\): (.*)$/m.exec(first)?.[1] ?? first).replace(/<[^>]+>/g, ' ').toLowerCase();
  const words = inner.normalize('NFKD').match(/[a-z0-9]+/g);
  const now = new Date();
  // The sandbox runs in the user's TZ.
  const day = [now.getFullYear(), now.getMonth() + 1, now.getDate()].map((n) => String(n).padStart(2, '0')).join('-');
  const base = `${DIR}/${day}-${words?.slice(0, 6).join('-').slice(0, 50).replace(/-+$/, '') || 'conversation'}`;
  fs.mkdirSync(DIR, { recursive: true });
  let file = `${base}.md`;
  for (let i = 2; fs.existsSync(file); i++) file = `${base}-${i}.md`;
  const head = `# Conversation archived ${fmt(now)}\n\nSession ${sessionId}, saved before it was compacted into a summary.\n`;
  const md = turns.map(
    (t) => `## ${t.user ? 'Chat' : assistantName}${t.time ? ` · ${fmt(new Date(t.time))}` : ''}\n\n${t.text}\n`,
  );
  fs.writeFileSync(file, [head, ...md].join('\n'));
  return file;
}

const archiveBeforeCompact =
  (assistantName: string): HookCallback =>
  async (input) => {
    try {
      const file = archive(input.transcript_path, assistantName, input.session_id);
      if (file) process.stderr.write(`archived the conversation to ${file}\n`);
    } catch (err) {
      process.stderr.write(`could not archive the conversation: ${(err as Error).message}\n`);
    }
    return {};
  };

/** The SDK hooks the runner adds to its own. */
export const hooks = ({ assistantName }: { assistantName: string }): Options['hooks'] => ({
  PreCompact: [{ hooks: [archiveBeforeCompact(assistantName)] }],
});
