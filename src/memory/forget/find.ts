// Finding what matches a forget request in every place the host and a group's
// sandbox keep data. Each place answers its own items; nothing is changed here.
import path from 'node:path';
import type { HomePaths } from '../../config/home.js';
import { resolveGroupFolder } from '../../config/home.js';
import type { Store } from '../../store/index.js';
import type { ForgetFilter, MessageMatch, TextMatch } from '../../store/forget.js';
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
  'messages' | 'memory' | 'archives' | 'transcript' | 'tasks' | 'task runs' | 'media' | 'outbox' | 'notices' | 'files' | 'logs';

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
  files: Record<'memory' | 'archives' | 'transcript' | 'media' | 'files' | 'logs', FileHit[]>;
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
    const special = new Set([path.join(dir, 'CLAUDE.md'), path.join(dir, '.claude', 'CLAUDE.md'), path.join(dir, 'conversations'), inbox]);
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
  if (r.includeHost && r.phrase) files.logs.push(...lineHits(walk(deps.paths.logs), m));
  return {
    messages,
    tasks: forget.findTasks(f),
    taskRuns: forget.findTaskRuns(f),
    outbox: forget.findOutbox(f),
    errors: forget.findErrors(f),
    files,
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
    logs: lines(x.files.logs),
  };
}

export const total = (x: Findings): number => Object.values(counts(x)).reduce((a, b) => a + b, 0);
