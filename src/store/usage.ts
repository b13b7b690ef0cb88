// Token usage per model call, and the errors the chats were told about.
import type { DB } from './db.js';

export interface UsageRecord {
  groupFolder: string;
  sessionId?: string | null;
  taskId?: string | null;
  model?: string | null;
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
  const addError = db.prepare(`INSERT INTO errors (at, group_folder, chat_jid, message) VALUES (?, ?, ?, ?)`);
  const recentErrors = db.prepare(`SELECT at, group_folder AS groupFolder, chat_jid AS chatJid, message FROM errors ORDER BY id DESC LIMIT ?`);

  return {
    record(u: UsageRecord): void {
      insert.run({ at: new Date().toISOString(), sessionId: null, taskId: null, model: null, ...u });
    },
    byGroup(): (Omit<UsageRecord, 'sessionId' | 'taskId' | 'model'> & { calls: number })[] {
      return byGroup.all() as any[];
    },
    recordError(groupFolder: string | null, chatJid: string | null, message: string): void {
      addError.run(new Date().toISOString(), groupFolder, chatJid, message.slice(0, 2000));
    },
    recentErrors(limit = 20): { at: string; groupFolder: string | null; chatJid: string | null; message: string }[] {
      return recentErrors.all(limit) as any[];
    },
  };
}
