// What a preview shows (places, counts, short excerpts) and what a receipt
// keeps (places and counts, never the erased content, not even the phrase).
import path from 'node:path';
import type { HomePaths } from '../../core/config/home.js';
import { oneLine } from '../../core/tools/answer.js';
import type { ForgetReceipt, ReceiptPlace } from './store.js';
import type { Verification } from './verify.js';
import { counts, PLACES, type FileHit, type Findings, type ForgetRequest, type PlaceName } from './find.js';
import type { Matcher } from './files.js';

export interface PreviewPlace {
  place: PlaceName;
  count: number;
  excerpts: string[];
}

const EXCERPTS = 3;

export function previewPlaces(x: Findings, m: Matcher, paths: HomePaths): PreviewPlace[] {
  const c = counts(x);
  const fileExcerpts = (hits: FileHit[]) =>
    hits.flatMap((h) =>
      (h.lines.length ? h.lines : ['(whole file)']).map((l) => `${path.relative(paths.home, h.file)}: ${m.excerpt(l)}`),
    );
  const ex: Record<PlaceName, string[]> = {
    messages: x.messages.map((msg) => `${msg.senderName || msg.sender}: ${m.excerpt(msg.text)}`),
    tasks: x.tasks.map((t) => `${t.id}: ${m.excerpt(t.text)}`),
    'task runs': x.taskRuns.map((t) => `run ${t.id}: ${m.excerpt(t.text)}`),
    outbox: x.outbox.map((o) => m.excerpt(o.text)),
    notices: x.errors.map((e) => m.excerpt(e.text)),
    approvals: x.approvals.map((a) => `${a.id}: ${m.excerpt(a.text)}`),
    memory: fileExcerpts(x.files.memory),
    archives: fileExcerpts(x.files.archives),
    transcript: x.files.transcript.map((h) => path.relative(paths.home, h.file)),
    media: x.files.media.map((h) => path.relative(paths.home, h.file)),
    files: fileExcerpts(x.files.files),
    logs: fileExcerpts(x.files.logs),
  };
  return PLACES.filter((p) => c[p] > 0).map((p) => ({ place: p, count: c[p], excerpts: ex[p].slice(0, EXCERPTS) }));
}

/** The request in words that do not repeat what is being forgotten. */
export function describeFilter(r: ForgetRequest): string {
  const parts: string[] = [];
  if (r.phrase) parts.push(`a phrase of ${[...r.phrase].length} characters`);
  if (r.sender) parts.push(`messages from ${r.sender}`);
  if (r.since) parts.push(`since ${r.since}`);
  if (r.until) parts.push(`until ${r.until}`);
  return parts.join(', ');
}

const AUDIT_HINT = 'only the owner can erase them, from the terminal: nanoclaw forget "…" --include-audit';

/** The audit trail's matches, left on purpose, with why (for the preview and the receipt). */
export function keptPlaces(x: Findings): ReceiptPlace[] {
  const out: ReceiptPlace[] = [];
  const approvals = x.kept.approvals.length;
  if (approvals)
    out.push({
      place: 'approvals',
      removed: 0,
      kept: approvals,
      detail: `${approvals} approval record${approvals === 1 ? '' : 's'} (what the agent asked for, and the decision)`,
    });
  const logs = x.kept.logs.reduce((n, h) => n + h.lines.length, 0);
  if (logs)
    out.push({
      place: 'logs',
      removed: 0,
      kept: logs,
      detail: `${logs} log line${logs === 1 ? '' : 's'} recording approvals, network decisions and forgets`,
    });
  return out;
}

function describeKept(kept: ReceiptPlace[]): string[] {
  if (!kept.length) return [];
  return [`Kept on purpose, as the audit trail (${AUDIT_HINT}):`, ...kept.map((k) => `- ${k.place}: ${k.detail}`)];
}

export function buildReceipt(
  id: string,
  r: ForgetRequest,
  requestedBy: string,
  places: ReceiptPlace[],
  v: Verification,
  now: Date,
): ForgetReceipt {
  return {
    id,
    createdAt: now.toISOString(),
    requestedBy,
    scope: r.scopeLabel,
    filter: describeFilter(r),
    places,
    verified: v.verified,
    remaining: v.remaining,
  };
}

export function describePreview(
  id: string,
  places: PreviewPlace[],
  expiresAt: Date,
  kept: ReceiptPlace[] = [],
): string {
  const nothing = 'Nothing matches that can be forgotten here: there is nothing to forget.';
  if (!places.length) return [nothing, ...describeKept(kept)].join('\n');
  const lines = [`Found (preview ${id}, valid until ${expiresAt.toISOString().slice(11, 16)} UTC):`];
  for (const p of places) {
    lines.push(`- ${p.place}: ${p.count}`);
    for (const e of p.excerpts) lines.push(`    · ${oneLine(e)}`);
  }
  lines.push(...describeKept(kept));
  lines.push(
    `Ask the requester to confirm; on "yes" call forget_confirm with preview_id ${id}. Nothing is erased before that.`,
  );
  return lines.join('\n');
}

export function describeReceipt(r: ForgetReceipt): string {
  const lines = [`Forgotten (receipt ${r.id}, ${r.scope}; ${r.filter}):`];
  for (const p of r.places.filter((p) => p.removed > 0)) lines.push(`- ${p.place}: ${p.detail}`);
  const clean = r.places.filter((p) => p.removed === 0 && !p.kept).map((p) => p.place);
  if (clean.length) lines.push(`Searched, nothing to remove: ${clean.join(', ')}.`);
  const kept = r.places.filter((p) => p.kept);
  lines.push(...describeKept(kept));
  lines.push(finalSearch(r));
  return lines.join('\n');
}

/** Never "no match remains" while the kept audit trail still holds one. */
export function finalSearch(r: ForgetReceipt): string {
  if (!r.verified) return `Final search still found: ${r.remaining.join('; ')}.`;
  if (r.places.some((p) => p.kept))
    return 'Final search: nothing remains besides the audit trail kept on purpose (rows, index, files, a byte scan).';
  const where = 'rows, index, files, and a byte scan of the database, its WAL and shared memory';
  return `Final search: no match remains (${where}).`;
}
