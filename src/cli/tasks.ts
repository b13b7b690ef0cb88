// `nanoclaw tasks list | show <id> | pause <id> | resume <id> | cancel <id>`,
// through the running host's API. Times are shown in this machine's local time.
import type { Config } from '../core/config/config.js';
import type { ScheduledTask } from '../plugins/scheduler/store.js';
import type { TaskDetailResponse, TaskResponse, TasksResponse } from '../plugins/scheduler/api.js';
import { apiClient, readBody, refusal } from './api-client.js';
import { duration, localTime, paint, positional } from './term.js';

export function describeSchedule(t: { scheduleType: string; scheduleValue: string }): string {
  if (t.scheduleType === 'interval') return `every ${duration(Number(t.scheduleValue))}`;
  if (t.scheduleType === 'once') return `once, ${localTime(t.scheduleValue)}`;
  return `cron ${t.scheduleValue}`;
}

const oneLine = (s: string, n: number) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
};

export async function tasksCommand(args: string[], config: Config): Promise<number> {
  const api = apiClient(config);
  const p = paint(process.stdout);
  const out = process.stdout;
  const [sub = 'list', id] = positional(args);
  const fail = async (res: Response, what: string) => {
    process.stderr.write(`${what}: ${await refusal(res)}\n`);
    return res.status === 404 ? 2 : 1;
  };

  if (sub === 'list') {
    const res = await api.request('/api/tasks');
    if (res.status === 404) {
      process.stderr.write('This NanoClaw has no scheduled tasks API.\n');
      return 1;
    }
    if (!res.ok) return fail(res, 'Could not list tasks');
    const { tasks } = await readBody<TasksResponse>(res);
    if (!tasks.length) {
      out.write(
        `No scheduled tasks. Ask ${config.assistantName} in a chat, e.g. "every weekday at 9, send me the weather".\n`,
      );
      return 0;
    }
    const colour = (s: string) => (s === 'active' ? p.ok(s) : s === 'paused' ? p.warn(s) : p.dim(s));
    for (const t of tasks) {
      out.write(`${p.bold(t.id)}  ${colour(t.status.padEnd(9))} ${t.groupFolder.padEnd(14)} ${describeSchedule(t)}\n`);
      out.write(`    ${oneLine(t.prompt, 90)}\n`);
      const next =
        t.status === 'active' && t.nextRun
          ? `next ${localTime(t.nextRun)}`
          : t.statusReason
            ? oneLine(t.statusReason, 60)
            : '';
      const last = t.lastRun
        ? `last ${localTime(t.lastRun)}${t.lastResult ? `: ${oneLine(t.lastResult, 60)}` : ''}`
        : 'never run';
      out.write(p.dim(`    ${[next, last].filter(Boolean).join(' · ')}\n`));
    }
    return 0;
  }

  if (!id) {
    process.stderr.write(`Usage: nanoclaw tasks ${sub} <task id>   (ids are in "nanoclaw tasks list")\n`);
    return 2;
  }
  const path = `/api/tasks/${encodeURIComponent(id)}`;

  if (sub === 'show') {
    const res = await api.request(path);
    if (!res.ok) return fail(res, `No task ${id}`);
    const { task: t, runs } = await readBody<TaskDetailResponse>(res);
    out.write(
      `${p.bold(t.id)} ${t.status} in ${t.groupFolder}, ${describeSchedule(t)}, context ${t.contextMode}\n${t.prompt}\n\n`,
    );
    if (t.status === 'active' && t.nextRun) out.write(`Next run: ${localTime(t.nextRun)}\n`);
    if (t.statusReason) out.write(`Status: ${t.statusReason}\n`);
    out.write(runs.length ? 'Runs:\n' : 'It has not run yet.\n');
    for (const r of runs) {
      out.write(
        `  ${localTime(r.startedAt)}  ${r.status.padEnd(11)} ${r.durationMs != null ? duration(r.durationMs).padEnd(7) : '       '} ${oneLine(r.error ?? r.result ?? '', 70)}\n`,
      );
    }
    return 0;
  }

  const actions: Record<string, { method: string; url: string; done: string }> = {
    pause: { method: 'POST', url: `${path}/pause`, done: 'Paused' },
    resume: { method: 'POST', url: `${path}/resume`, done: 'Resumed' },
    cancel: { method: 'DELETE', url: path, done: 'Cancelled' },
  };
  const action = actions[sub];
  if (!action) {
    process.stderr.write(`Unknown tasks subcommand "${sub}": use list, show, pause, resume or cancel.\n`);
    return 2;
  }
  const res = await api.request(action.url, { method: action.method });
  if (!res.ok) return fail(res, `Could not ${sub} ${id}`);
  // Pause and resume answer { task }; cancel answers { removed }.
  const body = await readBody<Partial<TaskResponse>>(res);
  const t: ScheduledTask | null = body.task ?? null;
  out.write(
    `${action.done} ${id}${t?.status === 'active' && t.nextRun ? `; next run ${localTime(t.nextRun)}` : ''}.\n`,
  );
  return 0;
}
