/** Turns a storage failure into words a user can act on. */
export function storeProblem(err: unknown, dbFile: string): string {
  const code = String((err as { code?: string })?.code ?? '');
  const msg = (err as Error)?.message ?? String(err);
  if (/READONLY|EROFS|EACCES|EPERM/.test(code) || /readonly|read-only|permission/i.test(msg)) {
    return `${dbFile} is read-only (${code || msg}). Nothing was accepted or changed; make it writable for this user and try again.`;
  }
  if (/FULL|ENOSPC/.test(code) || /disk is full|no space/i.test(msg)) {
    return `The disk holding ${dbFile} is full (${code || msg}). Nothing was accepted or changed; free some space and try again.`;
  }
  if (/CORRUPT|NOTADB/.test(code)) {
    return `The message store ${dbFile} is damaged (${code}). Stop NanoClaw and restore store/messages.db from a backup.`;
  }
  return `The message store ${dbFile} failed: ${msg}`;
}

/** Runs `open`, turning a storage failure into words that say what to do. */
export function explained<T>(where: string, open: () => T): T {
  try {
    return open();
  } catch (err) {
    throw new Error(storeProblem(err, (err as NodeJS.ErrnoException).path ?? where));
  }
}
