// Queries over scheduled tasks and their run log. A run is claimed by setting
// running_since in one UPDATE, so two hosts (or a host and its own restart)
// can never start the same task at once; a claim older than the agent timeout
// belongs to a host that died and may be taken over.
import type { DB } from '../../core/store/db.js';

export type ScheduleType = 'cron' | 'interval' | 'once';
export type ContextMode = 'group' | 'isolated';
export type TaskStatus = 'active' | 'paused' | 'completed';

export interface ScheduledTask {
  id: string;
  groupFolder: string;
  chatJid: string;
  prompt: string;
  scheduleType: ScheduleType;
  scheduleValue: string;
  contextMode: ContextMode;
  status: TaskStatus;
  /** Why it is paused or completed, in words for the user. */
  statusReason: string | null;
  /** ISO, UTC; null when it will not run again. */
  nextRun: string | null;
  lastRun: string | null;
  lastResult: string | null;
  budgetTokens: number | null;
  /** Set while a run holds the claim. */
  runningSince: string | null;
  createdAt: string;
}

export interface TaskRun {
  id: number;
  taskId: string;
  startedAt: string;
  durationMs: number | null;
  status: 'running' | 'success' | 'error' | 'over_budget';
  result: string | null;
  error: string | null;
  inputTokens: number;
  outputTokens: number;
}

/** What a new task is created with; the rest starts empty. */
export type NewTask = Pick<
  ScheduledTask,
  'id' | 'groupFolder' | 'chatJid' | 'prompt' | 'scheduleType' | 'scheduleValue' | 'contextMode' | 'nextRun'
> &
  Partial<Pick<ScheduledTask, 'budgetTokens' | 'createdAt'>>;

interface Row {
  id: string;
  group_folder: string;
  chat_jid: string;
  prompt: string;
  schedule_type: string;
  schedule_value: string;
  context_mode: string;
  status: string;
  status_reason: string | null;
  next_run: string | null;
  last_run: string | null;
  last_result: string | null;
  budget_tokens: number | null;
  running_since: string | null;
  created_at: string;
}

function fromRow(r: Row): ScheduledTask {
  return {
    id: r.id,
    groupFolder: r.group_folder,
    chatJid: r.chat_jid,
    prompt: r.prompt,
    scheduleType: r.schedule_type as ScheduleType,
    scheduleValue: r.schedule_value,
    contextMode: r.context_mode as ContextMode,
    status: r.status as TaskStatus,
    statusReason: r.status_reason,
    nextRun: r.next_run,
    lastRun: r.last_run,
    lastResult: r.last_result,
    budgetTokens: r.budget_tokens,
    runningSince: r.running_since,
    createdAt: r.created_at,
  };
}

const RUN_COLUMNS = `id, task_id AS taskId, started_at AS startedAt, duration_ms AS durationMs, status, result, error,
  input_tokens AS inputTokens, output_tokens AS outputTokens`;

export function taskQueries(db: DB) {
  const insert = db.prepare(
    `INSERT INTO scheduled_tasks (id, group_folder, chat_jid, prompt, schedule_type, schedule_value, context_mode, status, next_run, budget_tokens, created_at)
     VALUES (@id, @groupFolder, @chatJid, @prompt, @scheduleType, @scheduleValue, @contextMode, 'active', @nextRun, @budgetTokens, @createdAt)`,
  );
  const byId = db.prepare(`SELECT * FROM scheduled_tasks WHERE id = ?`);
  const byGroup = db.prepare(`SELECT * FROM scheduled_tasks WHERE group_folder = ? ORDER BY created_at, id`);
  const all = db.prepare(`SELECT * FROM scheduled_tasks ORDER BY group_folder, created_at, id`);
  const active = db.prepare(`SELECT * FROM scheduled_tasks WHERE status = 'active' ORDER BY next_run`);
  const due = db.prepare(
    `SELECT * FROM scheduled_tasks WHERE status = 'active' AND next_run IS NOT NULL AND next_run <= ?
       AND (running_since IS NULL OR running_since < ?) ORDER BY next_run`,
  );
  const claim = db.prepare(
    `UPDATE scheduled_tasks SET running_since = ?
     WHERE id = ? AND status = 'active' AND (running_since IS NULL OR running_since < ?)`,
  );
  const release = db.prepare(`UPDATE scheduled_tasks SET running_since = NULL WHERE id = ?`);
  const setStatus = db.prepare(`UPDATE scheduled_tasks SET status = ?, status_reason = ?, next_run = ? WHERE id = ?`);
  const remove = db.prepare(`DELETE FROM scheduled_tasks WHERE id = ?`);
  const removeRuns = db.prepare(`DELETE FROM task_runs WHERE task_id = ?`);
  const finishKeep = db.prepare(
    `UPDATE scheduled_tasks SET running_since = NULL, last_run = @lastRun, last_result = @lastResult, next_run = @nextRun WHERE id = @id`,
  );
  const finishWithStatus = db.prepare(
    `UPDATE scheduled_tasks SET running_since = NULL, last_run = @lastRun, last_result = @lastResult, next_run = @nextRun,
       status = @status, status_reason = @statusReason WHERE id = @id`,
  );
  const startRun = db.prepare(`INSERT INTO task_runs (task_id, started_at, status) VALUES (?, ?, 'running')`);
  const finishRun = db.prepare(
    `UPDATE task_runs SET duration_ms = @durationMs, status = @status, result = @result, error = @error,
       input_tokens = @inputTokens, output_tokens = @outputTokens WHERE id = @id`,
  );
  const recentRuns = db.prepare(`SELECT ${RUN_COLUMNS} FROM task_runs WHERE task_id = ? ORDER BY id DESC LIMIT ?`);

  const get = (id: string): ScheduledTask | undefined => {
    const r = byId.get(id) as Row | undefined;
    return r ? fromRow(r) : undefined;
  };

  return {
    create(t: NewTask): ScheduledTask {
      insert.run({ ...t, budgetTokens: t.budgetTokens ?? null, createdAt: t.createdAt ?? new Date().toISOString() });
      return get(t.id)!;
    },
    get,
    listByGroup(folder: string): ScheduledTask[] {
      return (byGroup.all(folder) as Row[]).map(fromRow);
    },
    listAll(): ScheduledTask[] {
      return (all.all() as Row[]).map(fromRow);
    },
    active(): ScheduledTask[] {
      return (active.all() as Row[]).map(fromRow);
    },

    /** Changes the given fields; returns the task as it is now. */
    update(
      id: string,
      patch: Partial<
        Pick<ScheduledTask, 'prompt' | 'scheduleType' | 'scheduleValue' | 'contextMode' | 'nextRun' | 'budgetTokens'>
      >,
    ): ScheduledTask | undefined {
      const columns: Record<string, string> = {
        prompt: 'prompt',
        scheduleType: 'schedule_type',
        scheduleValue: 'schedule_value',
        contextMode: 'context_mode',
        nextRun: 'next_run',
        budgetTokens: 'budget_tokens',
      };
      const values = patch as Record<string, unknown>;
      const keys = Object.keys(patch).filter((k) => k in columns && values[k] !== undefined);
      if (keys.length) {
        db.prepare(
          `UPDATE scheduled_tasks SET ${keys.map((k) => `${columns[k]} = @${k}`).join(', ')} WHERE id = @id`,
        ).run({
          ...Object.fromEntries(keys.map((k) => [k, values[k]])),
          id,
        });
      }
      return get(id);
    },

    setStatus(id: string, status: TaskStatus, opts: { reason?: string | null; nextRun?: string | null } = {}): void {
      const current = get(id);
      if (!current) return;
      setStatus.run(status, opts.reason ?? null, opts.nextRun !== undefined ? opts.nextRun : current.nextRun, id);
    },

    /** Deletes the task and its run log. */
    remove(id: string): boolean {
      return db.transaction(() => {
        removeRuns.run(id);
        return remove.run(id).changes > 0;
      })();
    },

    /** Active tasks due at `now` that no live run holds (claims older than `staleBefore` do not count). */
    due(now: string, staleBefore: string): ScheduledTask[] {
      return (due.all(now, staleBefore) as Row[]).map(fromRow);
    },

    /**
     * Takes the run claim. True for exactly one caller: the task must be
     * active and unclaimed, or claimed before `staleBefore` by a run that died.
     */
    claim(id: string, now: string, staleBefore: string): boolean {
      return claim.run(now, id, staleBefore).changes === 1;
    },

    /** Gives the claim back without changing the schedule. */
    release(id: string): void {
      release.run(id);
    },

    /** Ends a run: claim released, schedule moved on, outcome recorded, in one transaction. */
    finish(
      id: string,
      f: {
        lastRun: string;
        lastResult: string | null;
        nextRun: string | null;
        status?: TaskStatus;
        statusReason?: string | null;
      },
    ): void {
      const row = { id, lastRun: f.lastRun, lastResult: f.lastResult, nextRun: f.nextRun };
      if (f.status) finishWithStatus.run({ ...row, status: f.status, statusReason: f.statusReason ?? null });
      else finishKeep.run(row);
    },

    startRun(taskId: string, startedAt: string): number {
      return Number(startRun.run(taskId, startedAt).lastInsertRowid);
    },

    finishRun(
      runId: number,
      r: {
        durationMs: number;
        status: TaskRun['status'];
        result?: string | null;
        error?: string | null;
        inputTokens?: number;
        outputTokens?: number;
      },
    ): void {
      finishRun.run({
        id: runId,
        durationMs: r.durationMs,
        status: r.status,
        result: r.result ?? null,
        error: r.error ?? null,
        inputTokens: r.inputTokens ?? 0,
        outputTokens: r.outputTokens ?? 0,
      });
    },

    /** The latest runs, newest first. */
    recentRuns(taskId: string, limit = 10): TaskRun[] {
      return recentRuns.all(taskId, limit) as TaskRun[];
    },
  };
}

export type TaskQueries = ReturnType<typeof taskQueries>;

declare module '../../core/store/index.js' {
  interface StoreExtensions {
    tasks: ReturnType<typeof taskQueries>;
  }
}
/** This plugin's queries on the store. */
export const tasksStore = (db: DB) => ({ tasks: taskQueries(db) });

/** This plugin's tables (the first entry IF NOT EXISTS: stores from before plugins kept their own have them). */
export const migrations: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS scheduled_tasks (
    id TEXT PRIMARY KEY,
    group_folder TEXT NOT NULL,
    chat_jid TEXT NOT NULL,
    prompt TEXT NOT NULL,
    schedule_type TEXT NOT NULL,
    schedule_value TEXT NOT NULL,
    context_mode TEXT NOT NULL DEFAULT 'isolated',
    status TEXT NOT NULL DEFAULT 'active',
    status_reason TEXT,
    next_run TEXT,
    last_run TEXT,
    last_result TEXT,
    budget_tokens INTEGER,
    running_since TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS tasks_due ON scheduled_tasks (status, next_run);

  CREATE TABLE IF NOT EXISTS task_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms INTEGER,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS task_runs_task ON task_runs (task_id, id);
  `,
];
