// One host per home: a kernel (SQLite fcntl) lock, dropped even on SIGKILL, so a crash leaves no stale lock.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export interface HostLock {
  release(): void;
}

type LockHolder = { pid: number | null; url: string | null };

export function acquireHostLock(dataDir: string): { ok: true; lock: HostLock } | { ok: false; holder: LockHolder } {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'host.lock'), { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return { ok: false, holder: readHolder(dataDir) };
    throw err;
  }
  return { ok: true, lock: { release: () => db.close() } };
}

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(dataDir: string): LockHolder {
  try {
    const { pid, url } = JSON.parse(fs.readFileSync(path.join(dataDir, 'host.json'), 'utf8'));
    if (typeof pid === 'number' && alive(pid)) return { pid, url: typeof url === 'string' ? url : null };
  } catch {
    /* not written yet: the holder is still starting */
  }
  return { pid: null, url: null };
}

export function alreadyRunning(holder: LockHolder, home: string): string {
  if (holder.pid === null)
    return `NanoClaw is already starting for this home (${home}); wait for it ("nanoclaw status"), or stop it first.`;
  return (
    `NanoClaw is already running for this home (pid ${holder.pid}${holder.url ? `, ${holder.url}` : ''}); stop it first ` +
    `(kill ${holder.pid}, or "nanoclaw service uninstall" if it runs as a service). Home: ${home}`
  );
}
