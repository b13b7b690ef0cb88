// Opens the SQLite database and migrates it; the queries live in sibling files.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { redact } from '../secrets.js';
import { migrations } from './migrations.js';

export type DB = Database.Database;

export function parse(s: string | null, fallback?: unknown) {
  try {
    return s ? JSON.parse(s) : fallback;
  } catch {
    return fallback;
  }
}

// Bound values (named ones too) are redacted: an error text holding a token never reaches the file.
const clean = (v: any): unknown =>
  typeof v == 'string'
    ? redact(v)
    : v?.constructor == Object
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x)]))
      : v;

// On a full disk `release` frees store/reserve and the write runs once more.
export function openDatabase(file: string, release?: () => boolean): DB {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  // WAL with NORMAL survives a crash (power loss may drop the last transactions); deleted rows are zeroed.
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;
    PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON`);
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length)
    throw new Error(
      `The database is from a newer NanoClaw (schema ${current}, this one knows ${migrations.length}). Upgrade NanoClaw or restore a backup of store/messages.db.`,
    );
  steps(db, migrations, current, (v) => db.pragma(`user_version = ${v}`));
  // Only outermost writes retry: inside a transaction SQLite may have rolled back, so the whole one reruns.
  const retrying =
    (fn: (...a: unknown[]) => any) =>
    (...a: unknown[]) => {
      try {
        return fn(...a);
      } catch (err: any) {
        const full = /SQLITE_FULL|ENOSPC/.test(err?.code) || /database or disk is full/i.test(err?.message);
        if (!full || db.inTransaction || !release?.()) throw err;
        return fn(...a);
      }
    };
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    const run = stmt.run.bind(stmt);
    if (!stmt.reader) stmt.run = retrying((...a) => run(...a.map(clean)));
    return stmt;
  }) as typeof db.prepare;
  const transaction = db.transaction.bind(db);
  if (release)
    db.transaction = ((fn: () => unknown) => {
      const tx: any = transaction(fn);
      const wrapped: any = retrying(tx);
      for (const m of ['deferred', 'immediate', 'exclusive']) wrapped[m] = retrying(tx[m]);
      return (wrapped.default = wrapped);
    }) as typeof db.transaction;
  return db;
}

function steps(db: DB, list: readonly string[], from: number, done: (v: number) => unknown) {
  for (let v = from; v < list.length; v++)
    db.transaction(() => {
      db.exec(list[v]!);
      done(v + 1);
    })();
}

// Counted per plugin. A plugin's first creates tables IF NOT EXISTS: older stores already have them.
export function migratePlugin(db: DB, plugin: string, list: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS plugin_schema (plugin TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const at = db.prepare('SELECT version FROM plugin_schema WHERE plugin = ?').pluck().get(plugin) as number;
  const set = db.prepare('INSERT OR REPLACE INTO plugin_schema (plugin, version) VALUES (?, ?)');
  steps(db, list, at ?? 0, (v) => set.run(plugin, v));
}
