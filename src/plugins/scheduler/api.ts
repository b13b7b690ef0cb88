// Scheduled tasks over the local HTTP API, for the dashboard and the
// `nanoclaw tasks` command. Same checks as the agent's tools (the local API is
// the owner, so it may act on every group).
//   GET    /api/tasks               → { tasks: Task[] }
//   GET    /api/tasks/:id           → { task, runs }            (runs newest first)
//   POST   /api/tasks               { group_folder, prompt, schedule_type, schedule_value, context_mode?, budget_tokens? } → 201 { task }
//   POST   /api/tasks/:id/pause     → { task }
//   POST   /api/tasks/:id/resume    → { task }
//   DELETE /api/tasks/:id           → { removed: id }
// A task is { id, groupFolder, chatJid, prompt, scheduleType, scheduleValue, contextMode, status
// (active|paused|completed), statusReason, nextRun, lastRun, lastResult, budgetTokens, runningSince, createdAt };
// a run is { id, taskId, startedAt, durationMs, status (running|success|error|over_budget), result, error,
// inputTokens, outputTokens }. Times are ISO 8601 UTC.
// Errors answer { error } with 400 (invalid), 404 (no such task) or 409 (not possible in its state).
import { Hono, type Context } from 'hono';
import type { ScheduledTask, TaskRun } from './store.js';
import { cancelTask, createTask, pauseTask, resumeTask, type TaskDeps } from './tools.js';
import { ApiError, objectBody } from '../../core/api/errors.js';
import type { RemovedResponse } from '../../core/api/types.js';

export type TasksApiDeps = TaskDeps;

export function tasksApi(deps: TasksApiDeps): Hono {
  const { store } = deps;
  const app = new Hono();
  const taskOf = (c: Context): ScheduledTask => {
    const id = c.req.param('id') ?? '';
    const task = store.tasks.get(id);
    if (!task) throw new ApiError('not_found', `No task "${id.slice(0, 100)}"; GET /api/tasks lists them.`);
    return task;
  };

  app.get('/api/tasks', (c) => c.json<TasksResponse>({ tasks: store.tasks.listAll() }));

  app.get('/api/tasks/:id', (c) => {
    const task = taskOf(c);
    return c.json<TaskDetailResponse>({ task, runs: store.tasks.recentRuns(task.id, 50) });
  });

  app.post('/api/tasks', async (c) => {
    const body = await objectBody(
      c,
      'Body must be JSON: { "group_folder", "prompt", "schedule_type", "schedule_value", "context_mode"? }.',
    );
    if (typeof body.group_folder !== 'string')
      throw new ApiError('invalid', 'group_folder is required (the folder of a registered group, e.g. "main").');
    const res = createTask(deps, {
      groupFolder: body.group_folder,
      prompt: body.prompt,
      scheduleType: body.schedule_type,
      scheduleValue: body.schedule_value,
      contextMode: body.context_mode ?? undefined,
      budgetTokens: body.budget_tokens ?? undefined,
    });
    if (!res.ok) throw new ApiError('invalid', res.error);
    return c.json<TaskResponse>({ task: res.value }, 201);
  });

  app.post('/api/tasks/:id/pause', (c) => {
    const res = pauseTask(deps, taskOf(c), 'from the dashboard or CLI');
    if (!res.ok) throw new ApiError('conflict', res.error);
    return c.json<TaskResponse>({ task: res.value });
  });

  app.post('/api/tasks/:id/resume', (c) => {
    const res = resumeTask(deps, taskOf(c));
    if (!res.ok) throw new ApiError('conflict', res.error);
    return c.json<TaskResponse>({ task: res.value });
  });

  app.delete('/api/tasks/:id', (c) => {
    const task = taskOf(c);
    cancelTask(deps, task);
    return c.json<RemovedResponse>({ removed: task.id });
  });

  return app;
}

/** GET /api/tasks. */
export interface TasksResponse {
  tasks: ScheduledTask[];
}
/** POST /api/tasks (201), POST /api/tasks/:id/pause|resume. */
export interface TaskResponse {
  task: ScheduledTask;
}
/** GET /api/tasks/:id, runs newest first. */
export interface TaskDetailResponse {
  task: ScheduledTask;
  runs: TaskRun[];
}
