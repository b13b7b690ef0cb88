// Finding what matches a forget request in every place the host and a group's
// sandbox keep data. Each place answers its own items; nothing is changed here.
import path from 'node:path';
import type { HomePaths } from '../../core/config/home.js';
import { resolveGroupFolder } from '../../core/config/home.js';
import type { Store } from '../../core/store/index.js';
import type { ForgetFilter, MessageMatch, TextMatch } from './store.js';
import { matcher, matchingLines, readFile, walk, type Matcher } from './files.js';

/** What to forget, and where to look. */
export interface ForgetRequest {
  /** Chats (registered or not) to look in; undefined: every chat. */
  chatJids?: string[];
  /** Group folders whose files are searched. */
  folders: string[];
  /** Also groups/global/CLAUDE.md (main or every chat). */
  includeGlobal: boolean;
  /** Also host-wide places (logs): only when the scope is the owner's. */
  includeHost: boolean;
  /**
   * Also the audit trail: approval records and the log lines that record security decisions.
   * Only the owner's explicit `nanoclaw forget … --include-audit`; a forget asked for in a chat keeps it.
   */
  includeAudit?: boolean;
  phrase?: string;
  sender?: string;
  /** The names the sender goes by, for memory and archive lines that mention them. */
  senderNames?: string[];
  since?: string;
  until?: string;
  /** Words for the receipt: "this chat", "every chat", a chat's name. */
  scopeLabel: string;
}

export type PlaceName =
  | 'messages'
  | 'memory'
  | 'archives'
  | 'transcript'
  | 'tasks'
  | 'task runs'
  | 'media'
  | 'outbox'
  | 'notices'
  | 'files'
  | 'approvals'
  | 'logs';

export const PLACES: readonly PlaceName[] = [
  'messages',
  'memory',
  'archives',
  'transcript',
  'tasks',
  'task runs',
  'media',
  'outbox',
  'notices',
  'files',
  'approvals',
  'logs',
];

/** A file with matching lines to remove, or to delete whole (`whole`). */
export interface FileHit {
  file: string;
  lines: string[];
  whole: boolean;
}

export interface Findings {
  messages: MessageMatch[];
  tasks: TextMatch[];
  taskRuns: TextMatch[];
  outbox: TextMatch[];
  errors: TextMatch[];
  /** Approval records: found to erase only with includeAudit. */
  approvals: TextMatch[];
  files: Record<'memory' | 'archives' | 'transcript' | 'media' | 'files' | 'logs', FileHit[]>;
  /** The audit trail's matches, left on purpose (a forget asked for in a chat, or without --include-audit). */
  kept: { approvals: TextMatch[]; logs: FileHit[] };
  /** Folders whose session must be reset (their transcript held a match, or a person is forgotten). */
  sessions: string[];
}

export interface FindDeps {
  store: Store;
  paths: HomePaths;
}

export const filterOf = (r: ForgetRequest): ForgetFilter => ({
  chatJids: r.chatJids,
  phrase: r.phrase,
  sender: r.sender,
  since: r.since,
  until: r.until,
});

export const matcherOf = (r: ForgetRequest): Matcher => matcher(r.phrase, r.sender ? (r.senderNames ?? []) : []);

/** Log lines that are evidence: they record an approval, a network decision, a refused route or a forget. */
const AUDIT_MSG = /^(approval|egress|forget|model route refused)/;
export function isAuditLine(line: string): boolean {
  try {
    const msg = (JSON.parse(line) as { msg?: unknown }).msg;
    return typeof msg === 'string' && AUDIT_MSG.test(msg);
  } catch {
    return false;
  }
}

/** What is erased from logs: without includeAudit, never the audit lines. */
export const logMatcherOf = (r: ForgetRequest): Matcher => {
  const m = matcherOf(r);
  return r.includeAudit ? m : { ...m, line: (t) => m.line(t) && !isAuditLine(t) };
};

/** Words a reply repeats from a person's message: three in a row, or a number or code (a PIN, an id). */
export function repeats(reply: string, said: string[]): boolean {
  const words = (t: string) => t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const replyWords = words(reply);
  const runs = new Set(replyWords.slice(2).map((w, i) => `${replyWords[i]} ${replyWords[i + 1]} ${w}`));
  const tokens = new Set(replyWords);
  return said.some((text) => {
    const w = words(text);
    if (w.some((t) => ((/\p{N}/u.test(t) && t.length >= 4) || t.length >= 12) && tokens.has(t))) return true;
    return w.slice(2).some((t, i) => runs.has(`${w[i]} ${w[i + 1]} ${t}`));
  });
}

const groupDir = (paths: HomePaths, folder: string): string | null => {
  try {
    return resolveGroupFolder(paths, folder);
  } catch {
    return null;
  }
};

const lineHits = (files: string[], m: Matcher): FileHit[] =>
  files.flatMap((file) => {
    const lines = matchingLines(file, m);
    return lines?.length ? [{ file, lines, whole: false }] : [];
  });

/** Files matched by name or content (media, transcripts): deleted whole. */
const wholeHits = (files: string[], m: Matcher, alsoByName: boolean): FileHit[] =>
  files.flatMap((file) => {
    if (alsoByName && m.line(path.basename(file))) return [{ file, lines: [path.basename(file)], whole: true }];
    const b = readFile(file);
    if (b && m.bytes(b)) return [{ file, lines: [], whole: true }];
    const lines = b ? b.toString('utf8').split('\n').filter(m.line) : [];
    return lines.length ? [{ file, lines, whole: true }] : [];
  });

function attachmentFiles(deps: FindDeps, messages: MessageMatch[]): string[] {
  const out: string[] = [];
  for (const msg of messages) {
    if (!msg.attachments) continue;
    const folder = deps.store.groups.get(msg.chatJid)?.folder;
    const dir = folder ? groupDir(deps.paths, folder) : null;
    if (!dir) continue;
    let list: { path?: string }[] = [];
    try {
      list = JSON.parse(msg.attachments);
    } catch {
      continue;
    }
    for (const a of list) {
      if (typeof a.path !== 'string') continue;
      const file = path.resolve(dir, a.path);
      if (file.startsWith(path.join(dir, 'inbox') + path.sep)) out.push(file);
    }
  }
  return out;
}

export function findAll(deps: FindDeps, r: ForgetRequest): Findings {
  const f = filterOf(r);
  const m = matcherOf(r);
  const { forget } = deps.store;
  const messages = forget.findMessages(f);
  const files: Findings['files'] = { memory: [], archives: [], transcript: [], media: [], files: [], logs: [] };
  const sessions = new Set<string>();
  const memory: string[] = r.includeGlobal ? [path.join(deps.paths.global, 'CLAUDE.md')] : [];
  for (const folder of r.folders) {
    const dir = groupDir(deps.paths, folder);
    if (!dir) continue;
    memory.push(path.join(dir, 'CLAUDE.md'), path.join(dir, '.claude', 'CLAUDE.md'));
    files.archives.push(...lineHits(walk(path.join(dir, 'conversations')), m));
    const inbox = path.join(dir, 'inbox');
    files.media.push(...wholeHits(walk(inbox), m, true));
    const special = new Set([
      path.join(dir, 'CLAUDE.md'),
      path.join(dir, '.claude', 'CLAUDE.md'),
      path.join(dir, 'conversations'),
      inbox,
    ]);
    files.files.push(
      ...lineHits(
        walk(dir, (p) => special.has(p)),
        m,
      ),
    );
    const state = path.join(deps.paths.sessions, folder);
    const transcript = wholeHits(walk(state), m, false);
    files.transcript.push(...transcript);
    // A person's words are in the transcript under no name we can match: the whole session goes.
    const theirs = !!r.sender && messages.some((msg) => deps.store.groups.get(msg.chatJid)?.folder === folder);
    if (theirs) {
      const seen = new Set(transcript.map((h) => h.file));
      for (const file of walk(path.join(state, '.claude', 'projects')))
        if (!seen.has(file)) files.transcript.push({ file, lines: [], whole: true });
    }
    if (transcript.length || theirs) sessions.add(folder);
  }
  files.memory.push(...lineHits(memory, m));
  const known = new Set(files.media.map((h) => h.file));
  for (const file of attachmentFiles(deps, messages)) {
    if (!known.has(file) && readFile(file)) files.media.push({ file, lines: [], whole: true });
  }
  const kept: Findings['kept'] = { approvals: [], logs: [] };
  if (r.includeHost && r.phrase) {
    const logs = walk(deps.paths.logs);
    files.logs.push(...lineHits(logs, logMatcherOf(r)));
    if (!r.includeAudit) kept.logs.push(...lineHits(logs, { ...m, line: (t) => m.line(t) && isAuditLine(t) }));
  }
  const approvals = forget.findApprovals(f);
  if (!r.includeAudit) kept.approvals.push(...approvals);
  // A person's forget also takes the assistant's replies that repeated their words in those chats.
  const outbox = forget.findOutbox(f);
  const theirs = messages.filter((msg) => msg.sender === r.sender).map((msg) => msg.text);
  if (r.sender && theirs.length) {
    const chatJids = [...new Set(messages.map((msg) => msg.chatJid))];
    const replies = forget.assistantReplies({ ...f, chatJids });
    messages.push(...replies.messages.filter((msg) => repeats(msg.text, theirs)));
    outbox.push(...replies.outbox.filter((o) => repeats(o.text, theirs)));
  }
  return {
    messages,
    tasks: forget.findTasks(f),
    taskRuns: forget.findTaskRuns(f),
    outbox,
    errors: forget.findErrors(f),
    approvals: r.includeAudit ? approvals : [],
    files,
    kept,
    sessions: [...sessions],
  };
}

/** How many items each place holds. */
export function counts(x: Findings): Record<PlaceName, number> {
  const lines = (hits: FileHit[]) => hits.reduce((n, h) => n + (h.whole ? 1 : h.lines.length), 0);
  return {
    messages: x.messages.length,
    memory: lines(x.files.memory),
    archives: lines(x.files.archives),
    transcript: x.files.transcript.length,
    tasks: x.tasks.length,
    'task runs': x.taskRuns.length,
    media: x.files.media.length,
    outbox: x.outbox.length,
    notices: x.errors.length,
    files: lines(x.files.files),
    approvals: x.approvals.length,
    logs: lines(x.files.logs),
  };
}

export const total = (x: Findings): number => Object.values(counts(x)).reduce((a, b) => a + b, 0);
