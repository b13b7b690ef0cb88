// Proving erasure: the same search finds nothing, and (for a phrase) no file
// under the home holds its bytes, the database, its WAL and shared memory
// included. A database that still holds them is vacuumed once and scanned again.
import path from 'node:path';
import type { HomePaths } from '../../core/config/home.js';
import type { Store } from '../../core/store/index.js';
import { readFile, walk } from './files.js';
import { counts, findAll, type ForgetRequest } from './find.js';

/** Files under `root` whose name or bytes hold the phrase (case-insensitive). */
export function byteScan(root: string, phrase: string): string[] {
  const needle = Buffer.from(phrase.toLowerCase(), 'utf8').toString('latin1');
  return walk(root).filter((file) => {
    if (path.relative(root, file).toLowerCase().includes(phrase.toLowerCase())) return true;
    const b = readFile(file);
    return !!b && b.toString('latin1').toLowerCase().includes(needle);
  });
}

export interface Verification {
  verified: boolean;
  /** Places or files where a match remains (relative to the home). */
  remaining: string[];
}

/** The folders a request's scope covers; the store only when no chat outside the scope still holds the phrase. */
function scanRoots(deps: { store: Store; paths: HomePaths }, r: ForgetRequest): string[] {
  const roots: string[] = [];
  if (!r.chatJids) return [deps.paths.home];
  for (const folder of r.folders)
    roots.push(path.join(deps.paths.groups, folder), path.join(deps.paths.sessions, folder));
  if (r.includeGlobal) roots.push(deps.paths.global);
  if (r.includeHost) roots.push(deps.paths.logs);
  if (!deps.store.forget.findMessages({ phrase: r.phrase }, 1).length) roots.push(deps.paths.store);
  return roots;
}

export function verify(deps: { store: Store; paths: HomePaths }, r: ForgetRequest): Verification {
  const found = findAll(deps, r);
  const left = Object.entries(counts(found))
    .filter(([, n]) => n > 0)
    .map(([place, n]) => `${place}: ${n}`);
  if (!r.phrase) return { verified: left.length === 0, remaining: left };
  const scan = () => scanRoots(deps, r).flatMap((root) => byteScan(root, r.phrase!));
  let files = scan();
  if (files.some((f) => f.startsWith(deps.paths.store + path.sep))) {
    // Freed pages can keep old bytes in rare layouts: rewrite the whole file.
    deps.store.forget.scrub({ fts: true, vacuum: true });
    files = scan();
  }
  // The audit trail kept on purpose holds the phrase: those files are listed as kept, not as left behind.
  const keptFiles = new Set(found.kept.logs.map((h) => h.file));
  const keptRows = found.kept.approvals.length > 0;
  const isKept = (f: string) => keptFiles.has(f) || (keptRows && f.startsWith(deps.paths.store + path.sep));
  files = files.filter((f) => !isKept(f));
  const remaining = [...left, ...[...new Set(files)].map((f) => `file: ${path.relative(deps.paths.home, f)}`)];
  return { verified: remaining.length === 0, remaining };
}
