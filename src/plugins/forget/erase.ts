// Erasing what find.ts found: rows (and their index entries) through the
// store, matching lines out of text files, whole files for media and
// transcripts. Then the database is scrubbed so the bytes leave its files.
import type { Store } from '../../core/store/index.js';
import type { ReceiptPlace } from './store.js';
import { eraseFile, removeLines, type Matcher } from './files.js';
import type { FileHit, Findings } from './find.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function eraseFiles(hits: FileHit[], m: Matcher): { removed: number; files: number } {
  let removed = 0;
  for (const h of hits) {
    if (h.whole) {
      eraseFile(h.file);
      removed += 1;
    } else removed += removeLines(h.file, m);
  }
  return { removed, files: hits.length };
}

/** Erases every finding; answers what each place lost (counts, never the content). `logM` spares the audit lines. */
export function eraseAll(store: Store, x: Findings, m: Matcher, logM: Matcher = m): ReceiptPlace[] {
  const { forget } = store;
  const indexed = forget.removeMessages(x.messages.map((msg) => msg.seq));
  for (const t of x.tasks) forget.removeTask(t.id);
  for (const r of x.taskRuns) forget.removeTaskRun(r.id);
  for (const o of x.outbox) forget.removeOutbox(o.id);
  for (const e of x.errors) forget.removeError(e.id);
  for (const a of x.approvals) forget.removeApproval(a.id);
  // Always merged: an earlier forget or index batch may have left tombstoned terms behind.
  forget.scrub({ fts: indexed || x.messages.length > 0 });

  const places: ReceiptPlace[] = [
    {
      place: 'messages',
      removed: x.messages.length,
      detail: `${plural(x.messages.length, 'message')} and their search-index entries`,
    },
    {
      place: 'tasks',
      removed: x.tasks.length,
      detail: `${plural(x.tasks.length, 'scheduled task')} cancelled with their runs`,
    },
    {
      place: 'task runs',
      removed: x.taskRuns.length,
      detail: `${plural(x.taskRuns.length, 'run log entry', 'run log entries')}`,
    },
    { place: 'outbox', removed: x.outbox.length, detail: `${plural(x.outbox.length, 'outgoing message')}` },
    {
      place: 'notices',
      removed: x.errors.length,
      detail: `${plural(x.errors.length, 'failure notice')} shown to a chat`,
    },
  ];
  const approvals = x.approvals.length;
  if (approvals) places.push({ place: 'approvals', removed: approvals, detail: plural(approvals, 'approval record') });
  const lineNote: Record<string, string> = {
    memory: 'memory (CLAUDE.md)',
    archives: 'archived conversations',
    files: 'workspace files',
    logs: 'log',
  };
  for (const place of ['memory', 'archives', 'files', 'logs'] as const) {
    const r = eraseFiles(x.files[place], place === 'logs' ? logM : m);
    places.push({
      place,
      removed: r.removed,
      detail: `${plural(r.removed, 'line')} in ${plural(r.files, `${lineNote[place]} file`)}`,
    });
  }
  const media = eraseFiles(x.files.media, m);
  places.push({ place: 'media', removed: media.removed, detail: `${plural(media.removed, 'inbox file')} deleted` });
  const transcript = eraseFiles(x.files.transcript, m);
  places.push({
    place: 'transcript',
    removed: transcript.removed,
    detail: `${plural(transcript.removed, 'session file')} deleted; ${x.sessions.length ? `session reset for ${x.sessions.join(', ')}` : 'no session reset needed'}`,
  });
  return places;
}
