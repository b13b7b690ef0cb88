// Scheduled tasks: "remind me at 9", "every weekday at 17:00 …" — the agent's task tools, the API, and the
// scheduler that hands due runs to the queue. Enabled on every install by default.
import type { Plugin } from '../../core/plugin.js';
import { tasksApi } from './api.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { tasksStore, migrations } from './store.js';
import { createTaskTools, type TaskDeps } from './tools.js';

declare module '../../core/host-types.js' {
  interface HostExtensions {
    scheduler: Scheduler;
  }
}
declare module '../../core/types.js' {
  interface ApprovalKinds {
    cross_chat: true;
    task_budget: true;
  }
}

export const scheduler: Plugin = {
  name: 'scheduler',
  approvalKinds: {
    cross_chat: { mode: 'allow', words: 'act in another chat' },
    task_budget: { mode: 'allow', words: "raise a task's token budget" },
  },
  store: tasksStore,
  migrations,
  setup({ store, logger, config, queue, now }) {
    const scheduler = createScheduler({
      store,
      logger,
      timezone: config.timezone,
      now,
      queue,
      // A run holds its claim at most one agent turn (plus a minute to start its sandbox).
      staleMs: config.agentTimeoutMs + 60_000,
    });
    const tasks: TaskDeps = { store, timezone: config.timezone, now, onChange: () => scheduler.changed() };
    return {
      tools: createTaskTools(tasks),
      runTask: (taskId, run) => scheduler.runTask(taskId, run),
      api: (app) => app.route('/', tasksApi(tasks)),
      expose: { scheduler },
      start: () => scheduler.start(),
      drain: () => scheduler.stop(),
      // A run cut short by the stop is given back to the store, not failed: wait for it.
      stop: () => scheduler.idle(),
    };
  },
};
