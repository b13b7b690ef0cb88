// Scheduled tasks and token usage over the local HTTP API, for the dashboard
// and the `nanoclaw tasks` command. Same checks as the agent's tools (the
// local API is the owner, so it may act on every group).
//   GET    /api/tasks               → { tasks: Task[] }
//   GET    /api/tasks/:id           → { task, runs }            (runs newest first)
//   POST   /api/tasks               { group_folder, prompt, schedule_type, schedule_value, context_mode?, budget_tokens? } → 201 { task }
//   POST   /api/tasks/:id/pause     → { task }
//   POST   /api/tasks/:id/resume    → { task }
//   DELETE /api/tasks/:id           → { removed: id }
//   GET    /api/usage?days=30       → { byDay: [{ day }], byGroup: [{ groupFolder }], byTask: [{ taskId, groupFolder }] },
//                                     each row with inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens,
//                                     costUsd (an estimate, see pricing.ts); days in the user's time zone
// A task is { id, groupFolder, chatJid, prompt, scheduleType, scheduleValue, contextMode, status
// (active|paused|completed), statusReason, nextRun, lastRun, lastResult, budgetTokens, runningSince, createdAt };
// a run is { id, taskId, startedAt, durationMs, status (running|success|error|over_budget), result, error,
// inputTokens, outputTokens }. Times are ISO 8601 UTC.
// Errors answer { error } with 400 (invalid), 404 (no such task) or 409 (not possible in its state).
import type { Hono } from 'hono';
import { rollUp } from './pricing.js';
import type { Store } from '../../store/index.js';
import { cancelTask, createTask, pauseTask, resumeTask, type TaskDeps } from '../../tools/task-tools.js';

export interface TasksApiDeps extends TaskDeps {
  store: Store;
}

/** The local day (YYYY-MM-DD) of a UTC hour bucket such as "2025-01-06T23". */
function localDay(hour: string, timezone: string): string {
  const d = new Date(`${hour}:30:00Z`);
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

export function mountTasksApi(app: Hono, deps: TasksApiDeps): void {
  const { store } = deps;
  const notFound = (id: string) => ({ error: `No task "${id.slice(0, 100)}"; GET /api/tasks lists them.` });

  app.get('/api/tasks', (c) => c.json({ tasks: store.tasks.listAll() }));

  app.get('/api/tasks/:id', (c) => {
    const task = store.tasks.get(c.req.param('id'));
    if (!task) return c.json(notFound(c.req.param('id')), 404);
    return c.json({ task, runs: store.tasks.recentRuns(task.id, 50) });
  });

  app.post('/api/tasks', async (c) => {
    let body: any;
    try { body = await c.req.json(); } catch { return c.json({ error: 'Body must be JSON: { "group_folder", "prompt", "schedule_type", "schedule_value", "context_mode"? }.' }, 400); }
    if (!body || typeof body !== 'object') return c.json({ error: 'Body must be a JSON object.' }, 400);
    if (typeof body.group_folder !== 'string') return c.json({ error: 'group_folder is required (the folder of a registered group, e.g. "main").' }, 400);
    const res = createTask(deps, {
      groupFolder: body.group_folder, prompt: body.prompt, scheduleType: body.schedule_type, scheduleValue: body.schedule_value,
      contextMode: body.context_mode ?? undefined, budgetTokens: body.budget_tokens ?? undefined,
    });
    return res.ok ? c.json({ task: res.value }, 201) : c.json({ error: res.error }, 400);
  });

  app.post('/api/tasks/:id/pause', (c) => {
    const task = store.tasks.get(c.req.param('id'));
    if (!task) return c.json(notFound(c.req.param('id')), 404);
    const res = pauseTask(deps, task, 'from the dashboard or CLI');
    return res.ok ? c.json({ task: res.value }) : c.json({ error: res.error }, 409);
  });

  app.post('/api/tasks/:id/resume', (c) => {
    const task = store.tasks.get(c.req.param('id'));
    if (!task) return c.json(notFound(c.req.param('id')), 404);
    const res = resumeTask(deps, task);
    return res.ok ? c.json({ task: res.value }) : c.json({ error: res.error }, 409);
  });

  app.delete('/api/tasks/:id', (c) => {
    const task = store.tasks.get(c.req.param('id'));
    if (!task) return c.json(notFound(c.req.param('id')), 404);
    cancelTask(deps, task);
    return c.json({ removed: task.id });
  });

  app.get('/api/usage', (c) => {
    const days = Math.min(Math.max(Math.floor(Number(c.req.query('days') ?? 30)) || 30, 1), 3660);
    const since = new Date((deps.now ?? Date.now)() - days * 86_400_000).toISOString();
    const byDay = rollUp(store.usage.byHourAndModel(since), (r) => localDay(r.hour, deps.timezone), (r) => ({ day: localDay(r.hour, deps.timezone) }))
      .sort((a, b) => a.day.localeCompare(b.day));
    const byGroup = rollUp(store.usage.byGroupAndModel(since), (r) => r.groupFolder, (r) => ({ groupFolder: r.groupFolder }))
      .sort((a, b) => b.costUsd - a.costUsd);
    const byTask = rollUp(store.usage.byTaskAndModel(since), (r) => r.taskId, (r) => ({ taskId: r.taskId, groupFolder: r.groupFolder }))
      .sort((a, b) => b.costUsd - a.costUsd);
    return c.json({ byDay, byGroup, byTask });
  });
}
