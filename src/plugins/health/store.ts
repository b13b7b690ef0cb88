// Token usage per model call, and the errors the chats were told about.
import type { DB } from '../../core/store/db.js';
import type { UsageRecord } from '../../core/gateway/types.js';

export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export function usageQueries(db: DB) {
  const insert = db.prepare(
    `INSERT INTO usage (at, group_folder, session_id, task_id, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
     VALUES (@at, @groupFolder, @sessionId, @taskId, @model, @inputTokens, @outputTokens, @cacheReadTokens, @cacheWriteTokens)`,
  );
  const byGroup = db.prepare(
    `SELECT group_folder AS groupFolder, SUM(input_tokens) AS inputTokens, SUM(output_tokens) AS outputTokens,
       SUM(cache_read_tokens) AS cacheReadTokens, SUM(cache_write_tokens) AS cacheWriteTokens, COUNT(*) AS calls
     FROM usage GROUP BY group_folder`,
  );
  const sums = `SUM(input_tokens) AS inputTokens, SUM(output_tokens) AS outputTokens,
       SUM(cache_read_tokens) AS cacheReadTokens, SUM(cache_write_tokens) AS cacheWriteTokens`;
  // Per model as well, because the price of a token depends on the model.
  const byHourModel = db.prepare(
    `SELECT substr(at, 1, 13) AS hour, model, ${sums} FROM usage WHERE at >= ? GROUP BY hour, model ORDER BY hour`,
  );
  const byGroupModel = db.prepare(
    `SELECT group_folder AS groupFolder, model, ${sums} FROM usage WHERE at >= ? GROUP BY group_folder, model`,
  );
  const byTaskModel = db.prepare(
    `SELECT task_id AS taskId, group_folder AS groupFolder, model, ${sums} FROM usage WHERE at >= ? AND task_id IS NOT NULL GROUP BY task_id, group_folder, model`,
  );
  const taskTotals = db.prepare(
    `SELECT COALESCE(SUM(input_tokens), 0) AS inputTokens, COALESCE(SUM(output_tokens), 0) AS outputTokens FROM usage WHERE task_id = ? AND at >= ?`,
  );
  const addError = db.prepare(`INSERT INTO errors (at, group_folder, chat_jid, message) VALUES (?, ?, ?, ?)`);
  const recentErrors = db.prepare(
    `SELECT at, group_folder AS groupFolder, chat_jid AS chatJid, message FROM errors ORDER BY id DESC LIMIT ?`,
  );

  return {
    record(u: UsageRecord): void {
      insert.run({ at: new Date().toISOString(), sessionId: null, taskId: null, model: null, ...u });
    },
    byGroup(): (Omit<UsageRecord, 'sessionId' | 'taskId' | 'model'> & { calls: number })[] {
      return byGroup.all() as (Omit<UsageRecord, 'sessionId' | 'taskId' | 'model'> & { calls: number })[];
    },
    /** Totals since `since` (ISO) per UTC hour ("2025-01-06T09") and model. */
    byHourAndModel(since: string): (UsageTotals & { hour: string; model: string | null })[] {
      return byHourModel.all(since) as (UsageTotals & { hour: string; model: string | null })[];
    },
    byGroupAndModel(since: string): (UsageTotals & { groupFolder: string; model: string | null })[] {
      return byGroupModel.all(since) as (UsageTotals & { groupFolder: string; model: string | null })[];
    },
    byTaskAndModel(since: string): (UsageTotals & { taskId: string; groupFolder: string; model: string | null })[] {
      return byTaskModel.all(since) as (UsageTotals & { taskId: string; groupFolder: string; model: string | null })[];
    },
    /** What one task's runs used since `since` (ISO): the run log's token counts. */
    taskTotals(taskId: string, since: string): { inputTokens: number; outputTokens: number } {
      return taskTotals.get(taskId, since) as { inputTokens: number; outputTokens: number };
    },
    recordError(groupFolder: string | null, chatJid: string | null, message: string): void {
      addError.run(new Date().toISOString(), groupFolder, chatJid, message.slice(0, 2000));
    },
    recentErrors(limit = 20): { at: string; groupFolder: string | null; chatJid: string | null; message: string }[] {
      return recentErrors.all(limit) as {
        at: string;
        groupFolder: string | null;
        chatJid: string | null;
        message: string;
      }[];
    },
  };
}

declare module '../../core/store/index.js' {
  interface StoreExtensions {
    usage: ReturnType<typeof usageQueries>;
  }
}
/** This plugin's queries on the store. */
export const usageStore = (db: DB) => ({ usage: usageQueries(db) });

/** This plugin's tables (the first entry IF NOT EXISTS: stores from before plugins kept their own have them). */
export const migrations: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    group_folder TEXT NOT NULL,
    session_id TEXT,
    task_id TEXT,
    model TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS usage_group_at ON usage (group_folder, at);

  CREATE TABLE IF NOT EXISTS errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    group_folder TEXT,
    chat_jid TEXT,
    message TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS usage_at ON usage (at);
  CREATE INDEX IF NOT EXISTS usage_task_at ON usage (task_id, at);
  `,
];
