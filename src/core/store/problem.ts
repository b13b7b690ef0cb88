/** A storage failure in words a user can act on. */
export function storeProblem(err: any, dbFile: string): string {
  const code = String(err?.code ?? '');
  const msg = err?.message ?? String(err);
  const refused = `(${code || msg}). Nothing was accepted or changed;`;
  if (/READONLY|EROFS|EACCES|EPERM/.test(code) || /readonly|read-only|permission/i.test(msg))
    return `${dbFile} is read-only ${refused} make it writable for this user and try again.`;
  if (/FULL|ENOSPC/.test(code) || /disk is full|no space/i.test(msg))
    return `The disk holding ${dbFile} is full ${refused} free some space and try again.`;
  if (/CORRUPT|NOTADB/.test(code))
    return `The message store ${dbFile} is damaged (${code}). Stop NanoClaw and restore store/messages.db from a backup.`;
  return `The message store ${dbFile} failed: ${msg}`;
}

/** Runs `open`; a storage failure comes out as storeProblem's words. */
export function explained<T>(where: string, open: () => T): T {
  try {
    return open();
  } catch (err: any) {
    throw new Error(storeProblem(err, err?.path ?? where));
  }
}
