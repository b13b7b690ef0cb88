// Each heartbeat's decision, for the dashboard and the API: quiet (nothing sent), said (one message), skipped, failed.
import type { DB } from '../../core/store/db.js';

export type Decision = 'quiet' | 'said' | 'skipped' | 'failed';

export interface Beat {
  at: string;
  groupFolder: string;
  decision: Decision;
  /** What was sent, or why it was skipped or failed. */
  detail: string;
}

function beatQueries(db: DB) {
  const insert = db.prepare(`INSERT INTO heartbeat_beats (at, group_folder, decision, detail) VALUES (?, ?, ?, ?)`);
  const recent = db.prepare(
    `SELECT at, group_folder AS groupFolder, decision, detail FROM heartbeat_beats
     WHERE (? IS NULL OR group_folder = ?) ORDER BY id DESC LIMIT ?`,
  );
  return {
    record(b: Beat): void {
      insert.run(b.at, b.groupFolder, b.decision, b.detail.slice(0, 2000));
    },
    /** Newest first. */
    recent(folder: string | null, limit = 50): Beat[] {
      return recent.all(folder, folder, limit) as Beat[];
    },
  };
}

declare module '../../core/store/index.js' {
  interface StoreExtensions {
    heartbeats: ReturnType<typeof beatQueries>;
  }
}

export const heartbeatStore = (db: DB) => ({ heartbeats: beatQueries(db) });

export const migrations: readonly string[] = [
  `
  CREATE TABLE heartbeat_beats (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    group_folder TEXT NOT NULL,
    decision TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
  );
  CREATE INDEX heartbeat_beats_folder ON heartbeat_beats (group_folder, id);
  `,
];
