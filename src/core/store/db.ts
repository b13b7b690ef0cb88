// Opens the SQLite database and brings its schema up to date; every query lives in a sibling file.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { redact } from '../secrets.js';
import { migrations } from './migrations.js';

export type DB = Database.Database;

export function openDatabase(file: string): DB {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // In WAL mode NORMAL survives process crashes; only power loss can drop the last transactions.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Deleted rows are overwritten with zeros, so forgetting leaves no bytes behind.
  db.pragma('secure_delete = ON');
  migrate(db);
  redactWrites(db);
  return db;
}

type Run = (...args: unknown[]) => Database.RunResult;

/** Every writing statement's run() goes through `wrap`. */
function wrapRuns(db: DB, wrap: (run: Run, args: unknown[]) => ReturnType<Run>) {
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    if (stmt.reader) return stmt;
    const run = stmt.run.bind(stmt);
    stmt.run = ((...args: unknown[]) => wrap(run, args)) as typeof stmt.run;
    return stmt;
  }) as typeof db.prepare;
}

/** So an error text with a token in it never reaches the file. */
export function redactWrites(db: DB): void {
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? redact(x) : x]));
    return v;
  };
  wrapRuns(db, (run, args) => run(...args.map(clean)));
}

export function migrate(db: DB): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length)
    throw new Error(
      `The database is from a newer NanoClaw (schema ${current}, this one knows ${migrations.length}). Upgrade NanoClaw or restore a backup of store/messages.db.`,
    );
  for (let v = current; v < migrations.length; v++)
    db.transaction(() => {
      db.exec(migrations[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
}

/**
 * A plugin's own tables: its migrations run once each, in order, recorded per plugin. A plugin's first entry
 * creates its tables IF NOT EXISTS, since a store from before plugins kept their own already has them.
 */
export function migratePlugin(db: DB, plugin: string, list: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS plugin_schema (plugin TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM plugin_schema WHERE plugin = ?').get(plugin) as
    { version: number } | undefined;
  for (let v = row?.version ?? 0; v < list.length; v++)
    db.transaction(() => {
      db.exec(list[v]);
      db.prepare('INSERT OR REPLACE INTO plugin_schema (plugin, version) VALUES (?, ?)').run(plugin, v + 1);
    })();
}

const isFull = (err: unknown) =>
  /SQLITE_FULL|ENOSPC/.test(String((err as { code?: string })?.code ?? '')) ||
  /database or disk is full/i.test((err as Error)?.message ?? '');

// On a full disk `release` frees store/reserve and the write runs once more. Only outermost writes retry:
// inside a transaction SQLite may already have rolled back, so the whole transaction runs again.
export function retryWritesOnFull(db: DB, release: () => boolean): void {
  const retry = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (!isFull(err) || db.inTransaction || !release()) throw err;
      return fn();
    }
  };
  wrapRuns(db, (run, args) => retry(() => run(...args)));
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...a: unknown[]) => unknown) => {
    const tx = transaction(fn);
    const wrapped = ((...args: unknown[]) => retry(() => tx(...args))) as typeof tx;
    for (const mode of ['deferred', 'immediate', 'exclusive'] as const)
      wrapped[mode] = ((...args: unknown[]) => retry(() => tx[mode](...args))) as typeof tx;
    wrapped.default = wrapped;
    return wrapped;
  }) as typeof db.transaction;
}
