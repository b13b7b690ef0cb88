// `nanoclaw tasks list | add | show <id> | pause <id> | resume <id> | cancel <id>`, through the running host's API.
// Times are shown in this machine's local time; `add --at` is read in the owner's time zone (TZ), as the chat's are.
import type { Config } from '../core/config/config.js';
import type { ScheduledTask } from '../plugins/scheduler/store.js';
import type { TaskDetailResponse, TaskResponse, TasksResponse } from '../plugins/scheduler/api.js';
import { apiClient, readBody, refusal } from './api-client.js';
import { duration, flag, localTime, option, paint, positional } from './term.js';

export function describeSchedule(t: { scheduleType: string; scheduleValue: string }): string {
  if (t.scheduleType === 'interval') return `every ${duration(Number(t.scheduleValue))}`;
  if (t.scheduleType === 'once') return `once, ${localTime(t.scheduleValue)}`;
  return `cron ${t.scheduleValue}`;
}

const oneLine = (s: string, n: number) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
};

const ADD_USAGE = `Usage: nanoclaw tasks add <group folder> "<what to do>" --cron "<min hour day month weekday>" | --every <N>m|h|d | --at "YYYY-MM-DD HH:MM" [--with-history] [--budget <tokens>]
  e.g. nanoclaw tasks add main "Send me the weather" --cron "0 9 * * 1-5"
       nanoclaw tasks add main "Check the build" --every 30m
       nanoclaw tasks add main "Remind me to call Sam" --at "2030-01-06 09:00"   (in the owner's time zone)
`;
const VALUED = ['--cron', '--every', '--at', '--budget'];
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The schedule the flags give, as the API takes it; a string is what is wrong. */
function scheduleOf(args: string[]): { schedule_type: string; schedule_value: string } | string {
  const given = (['--cron', '--every', '--at'] as const).filter((f) => option(args, f) !== undefined);
  if (given.length !== 1) return 'Give exactly one of --cron, --every or --at.';
  const value = option(args, given[0])!.trim();
  if (given[0] === '--cron') return { schedule_type: 'cron', schedule_value: value };
  if (given[0] === '--every') {
    const m = /^(\d+)\s*(m|h|d)$/i.exec(value);
    if (!m) return `--every takes minutes, hours or days, e.g. 30m, 2h or 1d; got "${value.slice(0, 40)}".`;
    return { schedule_type: 'interval', schedule_value: String(Number(m[1]) * UNIT_MS[m[2].toLowerCase()]) };
  }
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})$/.exec(value);
  if (!m) return `--at takes a date and time such as "2030-01-06 09:00"; got "${value.slice(0, 40)}".`;
  // No zone: the host reads it in the owner's time zone.
  return { schedule_type: 'once', schedule_value: `${m[1]}T${m[2].padStart(2, '0')}:${m[3]}:00` };
}

export async function tasksCommand(args: string[], config: Config): Promise<number> {
  const api = apiClient(config);
  const p = paint(process.stdout);
  const out = process.stdout;
  const [sub = 'list', id, ...rest] = positional(args, VALUED);
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

  if (sub === 'add') {
    const schedule = scheduleOf(args);
    const budget = option(args, '--budget');
    if (!id || rest.length !== 1 || typeof schedule === 'string') {
      process.stderr.write(`${typeof schedule === 'string' && id ? `${schedule}\n` : ''}${ADD_USAGE}`);
      return 2;
    }
    const res = await api.request('/api/tasks', {
      method: 'POST',
      json: {
        group_folder: id,
        prompt: rest[0],
        ...schedule,
        context_mode: flag(args, '--with-history') ? 'group' : 'isolated',
        budget_tokens: budget === undefined ? undefined : Number(budget),
      },
    });
    if (!res.ok) return fail(res, 'Could not add the task');
    const { task: t } = await readBody<TaskResponse>(res);
    out.write(
      `${p.ok('✓')} Added ${p.bold(t.id)} in ${t.groupFolder}, ${describeSchedule(t)}${t.nextRun ? `; next run ${localTime(t.nextRun)}` : ''}.\n`,
    );
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
    process.stderr.write(`Unknown tasks subcommand "${sub}": use list, add, show, pause, resume or cancel.\n`);
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
