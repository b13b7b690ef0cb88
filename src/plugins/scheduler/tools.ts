// Scheduled tasks as the agent (and the local API) changes them. The caller's
// identity comes from the gateway endpoint, never from the arguments: a
// non-main group sees and changes only its own tasks; the main group may
// schedule for any group (target_group) and sees them all. A refused call says
// why and changes nothing.
import crypto from 'node:crypto';
import type { Identity } from '../../core/gateway/gateway.js';
import type { Result } from '../../core/groups/registration.js';
import { formatLocal, nextRun, nextRuns, validateSchedule, type Schedule } from './schedule.js';
import type { Store } from '../../core/store/index.js';
import type { ContextMode, ScheduledTask } from './store.js';
import { tool, type ApprovalOf, type HostTool } from '../../core/tools/registry.js';
import * as defs from './definitions.js';
import { ok, refuse } from '../../core/tools/answer.js';

export interface TaskDeps {
  store: Store;
  timezone: string;
  now?: () => number;
  /** A task was created, changed or removed (the scheduler re-arms its timer). */
  onChange(): void;
}

/** Enough for any one chat; more is almost certainly a loop gone wrong. */
const MAX_TASKS_PER_GROUP = 50;
const MAX_PROMPT = defs.MAX_TASK_PROMPT;

const clock = (deps: TaskDeps) => (deps.now ?? Date.now)();
const iso = (ms: number) => new Date(ms).toISOString();
const excerpt = (s: string, n = 80) => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? one.slice(0, n - 1) + '…' : one;
};

function newTaskId(store: Store): string {
  for (;;) {
    const id = `task-${crypto.randomBytes(4).toString('hex')}`;
    if (!store.tasks.get(id)) return id;
  }
}

function humanMs(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units)
    if (ms % size === 0) {
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  return `${ms} ms`;
}

export function describeSchedule(t: Pick<ScheduledTask, 'scheduleType' | 'scheduleValue'>, timezone: string): string {
  if (t.scheduleType === 'cron') return `cron "${t.scheduleValue}" (${timezone})`;
  if (t.scheduleType === 'interval') return `every ${humanMs(Number(t.scheduleValue))}`;
  return `once at ${formatLocal(Date.parse(t.scheduleValue), timezone)}`;
}

function upcoming(deps: TaskDeps, t: ScheduledTask, n: number): string {
  if (t.status !== 'active' || !t.nextRun) return '';
  const times = nextRuns({ type: t.scheduleType, value: t.scheduleValue }, n, {
    now: clock(deps),
    timezone: deps.timezone,
    first: Date.parse(t.nextRun),
  });
  return times.map((ms) => formatLocal(ms, deps.timezone)).join('; ');
}

export interface NewTaskInput {
  groupFolder: string;
  prompt: unknown;
  scheduleType: unknown;
  scheduleValue: unknown;
  contextMode?: unknown;
  budgetTokens?: unknown;
}

/**
 * A schedule checked, with its first run and the run times the user will be
 * shown, all worked out before anything is stored: a schedule that cannot be
 * computed or shown (e.g. in a broken time zone) is refused, not half-saved.
 */
function plan(
  deps: TaskDeps,
  type: unknown,
  value: unknown,
  now: number,
): Result<{ schedule: Schedule; first: number | null }> {
  try {
    const checked = validateSchedule(type, value, { now, timezone: deps.timezone });
    if (!checked.ok) return checked;
    const first = nextRun(checked.schedule, { now, timezone: deps.timezone });
    for (const ms of nextRuns(checked.schedule, 3, { now, timezone: deps.timezone, first }))
      formatLocal(ms, deps.timezone);
    return { ok: true, value: { schedule: checked.schedule, first } };
  } catch (err) {
    return {
      ok: false,
      error: `Could not work out when this schedule runs in the time zone "${deps.timezone}" (${(err as Error).message}); nothing was scheduled. Check TZ and restart NanoClaw.`,
    };
  }
}

/** Creates a task for a registered group, after every check. */
export function createTask(deps: TaskDeps, input: NewTaskInput): Result<ScheduledTask> {
  const { store } = deps;
  const group = store.groups.byFolder(input.groupFolder);
  if (!group)
    return {
      ok: false,
      error: `No registered group has the folder "${String(input.groupFolder).slice(0, 64)}"; list_groups shows the folders.`,
    };
  if (typeof input.prompt !== 'string' || !input.prompt.trim())
    return { ok: false, error: 'prompt is required: what the agent should do when the task runs.' };
  if (input.prompt.length > MAX_PROMPT)
    return { ok: false, error: `prompt is ${input.prompt.length} characters; at most ${MAX_PROMPT} are allowed.` };
  const contextMode = (input.contextMode ?? 'isolated') as ContextMode;
  if (contextMode !== 'group' && contextMode !== 'isolated')
    return { ok: false, error: "context_mode must be group (this chat's conversation) or isolated (a fresh one)." };
  const budget = input.budgetTokens ?? null;
  if (budget !== null && (typeof budget !== 'number' || !Number.isInteger(budget) || budget <= 0))
    return { ok: false, error: 'budget_tokens must be a positive whole number of tokens.' };
  const now = clock(deps);
  const planned = plan(deps, input.scheduleType, input.scheduleValue, now);
  if (!planned.ok) return planned;
  const { schedule, first } = planned.value;
  const prompt = input.prompt.trim();
  // The count and the insert in one transaction: a refusal or a throw leaves no task behind.
  const task = store.db.transaction((): ScheduledTask | null => {
    if (store.tasks.listByGroup(group.folder).filter((t) => t.status !== 'completed').length >= MAX_TASKS_PER_GROUP)
      return null;
    return store.tasks.create({
      id: newTaskId(store),
      groupFolder: group.folder,
      chatJid: group.jid,
      prompt,
      scheduleType: schedule.type,
      scheduleValue: schedule.value,
      contextMode,
      nextRun: first === null ? null : iso(first),
      budgetTokens: budget as number | null,
      createdAt: iso(now),
    });
  })();
  if (!task)
    return { ok: false, error: `${group.name} already has ${MAX_TASKS_PER_GROUP} scheduled tasks; cancel some first.` };
  deps.onChange();
  return { ok: true, value: task };
}

export function pauseTask(deps: TaskDeps, task: ScheduledTask, by: string): Result<ScheduledTask> {
  if (task.status === 'completed')
    return { ok: false, error: `Task ${task.id} has already completed; there is nothing to pause.` };
  if (task.status !== 'paused') {
    deps.store.tasks.setStatus(task.id, 'paused', { reason: `Paused ${by}.` });
    deps.onChange();
  }
  return { ok: true, value: deps.store.tasks.get(task.id)! };
}

/** Resumes a paused task from its next slot; a once task whose time has passed runs now. */
export function resumeTask(deps: TaskDeps, task: ScheduledTask): Result<ScheduledTask> {
  if (task.status === 'active') return { ok: true, value: task };
  if (task.status === 'completed')
    return { ok: false, error: `Task ${task.id} already ran (it was a once task); schedule a new one instead.` };
  if (!deps.store.groups.byFolder(task.groupFolder))
    return {
      ok: false,
      error: `Task ${task.id} belongs to the group "${task.groupFolder}", which is no longer registered; register that chat again first.`,
    };
  const now = clock(deps);
  const schedule: Schedule = { type: task.scheduleType, value: task.scheduleValue };
  let next: number | null;
  if (task.scheduleType === 'once') next = Math.max(Date.parse(task.scheduleValue), now);
  else if (task.scheduleType === 'interval')
    next = nextRun(schedule, {
      now,
      timezone: deps.timezone,
      previousDue: task.nextRun ? Date.parse(task.nextRun) : null,
    });
  else next = nextRun(schedule, { now, timezone: deps.timezone });
  deps.store.tasks.setStatus(task.id, 'active', { reason: null, nextRun: next === null ? null : iso(next) });
  deps.onChange();
  return { ok: true, value: deps.store.tasks.get(task.id)! };
}

export function updateTask(
  deps: TaskDeps,
  task: ScheduledTask,
  patch: { prompt?: string; scheduleType?: string; scheduleValue?: string },
): Result<ScheduledTask> {
  if (patch.prompt !== undefined && (!patch.prompt.trim() || patch.prompt.length > MAX_PROMPT))
    return { ok: false, error: `prompt must be 1-${MAX_PROMPT} characters.` };
  const changes: Parameters<Store['tasks']['update']>[1] = {};
  if (patch.prompt !== undefined) changes.prompt = patch.prompt.trim();
  let reactivate = false;
  if (patch.scheduleType !== undefined || patch.scheduleValue !== undefined) {
    if (
      patch.scheduleType !== undefined &&
      patch.scheduleType !== task.scheduleType &&
      patch.scheduleValue === undefined
    ) {
      return { ok: false, error: `Changing schedule_type to ${patch.scheduleType} needs a schedule_value too.` };
    }
    const now = clock(deps);
    const checked = validateSchedule(
      patch.scheduleType ?? task.scheduleType,
      patch.scheduleValue ?? task.scheduleValue,
      {
        now,
        timezone: deps.timezone,
      },
    );
    if (!checked.ok) return checked;
    const next = nextRun(checked.schedule, { now, timezone: deps.timezone });
    Object.assign(changes, {
      scheduleType: checked.schedule.type,
      scheduleValue: checked.schedule.value,
      nextRun: next === null ? null : iso(next),
    });
    // A finished once task given a new time is a live task again.
    reactivate = task.status === 'completed';
  }
  if (!Object.keys(changes).length)
    return { ok: false, error: 'Nothing to change: give prompt, or schedule_type and schedule_value.' };
  deps.store.tasks.update(task.id, changes);
  if (reactivate) deps.store.tasks.setStatus(task.id, 'active', { reason: null });
  deps.onChange();
  return { ok: true, value: deps.store.tasks.get(task.id)! };
}

export function cancelTask(deps: TaskDeps, task: ScheduledTask): Result<ScheduledTask> {
  deps.store.tasks.remove(task.id);
  deps.onChange();
  return { ok: true, value: task };
}

export function createTaskTools(deps: TaskDeps): HostTool[] {
  const { store } = deps;

  /** The task, if the caller may see it. Another group's task reads as absent: its id tells nothing. */
  const visible = (identity: Identity, id: string): ScheduledTask | { error: string } => {
    const task = store.tasks.get(id);
    if (!task || (!identity.isMain && task.groupFolder !== identity.groupFolder)) {
      return { error: `No task "${id.slice(0, 100)}" belongs to this chat; list_tasks shows the ones that do.` };
    }
    return task;
  };

  const line = (t: ScheduledTask, withGroup: boolean): string => {
    const next =
      t.status === 'active' && t.nextRun ? `next ${formatLocal(Date.parse(t.nextRun), deps.timezone)}` : t.status;
    return `- ${t.id}${withGroup ? ` [${t.groupFolder}]` : ''} (${t.status}) ${describeSchedule(t, deps.timezone)}, ${t.contextMode}; ${next}: "${excerpt(t.prompt)}"`;
  };

  const detail = (t: ScheduledTask): string => {
    const runs = store.tasks.recentRuns(t.id, 5);
    const lines = [
      `Task ${t.id} for ${store.groups.byFolder(t.groupFolder)?.name ?? t.groupFolder} (folder ${t.groupFolder})`,
      `Status: ${t.status}${t.statusReason ? ` — ${t.statusReason}` : ''}`,
      `Schedule: ${describeSchedule(t, deps.timezone)}; context: ${t.contextMode}${t.budgetTokens ? `; budget ${t.budgetTokens} tokens per run` : ''}`,
      `Next runs: ${upcoming(deps, t, 3) || 'none'}`,
      `Last run: ${t.lastRun ? formatLocal(Date.parse(t.lastRun), deps.timezone) : 'never'}${t.lastResult ? ` — ${excerpt(t.lastResult, 300)}` : ''}`,
      `Prompt: ${t.prompt}`,
      `Recent runs:${runs.length ? '' : ' none yet'}`,
      ...runs.map(
        (r) =>
          `- ${formatLocal(Date.parse(r.startedAt), deps.timezone)} ${r.status}${r.durationMs !== null ? `, ${Math.round(r.durationMs / 1000)} s` : ''}, ${r.inputTokens + r.outputTokens} tokens${r.error ? `: ${excerpt(r.error, 200)}` : r.result ? `: ${excerpt(r.result, 200)}` : ''}`,
      ),
    ];
    return lines.join('\n');
  };

  // The main chat scheduling for another group is a cross-chat action the owner may want to approve.
  const crossChat: ApprovalOf<typeof defs.scheduleTask.args> = (identity, a) =>
    identity.isMain && a.target_group !== undefined && a.target_group !== identity.groupFolder
      ? {
          kind: 'cross_chat',
          detail: `schedule_task for group ${a.target_group} (${a.schedule_type} ${String(a.schedule_value)}): ${a.prompt}`,
          what: `schedule a task for the group ${a.target_group}`,
        }
      : null;

  const tools: HostTool[] = [
    tool(
      defs.scheduleTask,
      (identity, data) => {
        const target = data.target_group;
        if (target !== undefined && target !== identity.groupFolder && !identity.isMain) {
          return refuse(
            'Only the main chat can schedule tasks for another group (target_group). Leave target_group out to schedule for this chat.',
          );
        }
        const res = createTask(deps, {
          groupFolder: target ?? identity.groupFolder,
          prompt: data.prompt,
          scheduleType: data.schedule_type,
          scheduleValue: String(data.schedule_value),
          contextMode: data.context_mode,
          budgetTokens: data.budget_tokens,
        });
        if (!res.ok) return refuse(res.error);
        const t = res.value;
        const where =
          t.groupFolder === identity.groupFolder
            ? 'this chat'
            : `${store.groups.byFolder(t.groupFolder)?.name ?? t.groupFolder} (folder ${t.groupFolder})`;
        return ok(
          [
            `Scheduled task ${t.id} for ${where}: ${describeSchedule(t, deps.timezone)}, ${t.contextMode} context${t.budgetTokens ? `, budget ${t.budgetTokens} tokens per run` : ''}.`,
            `Next run${t.scheduleType === 'once' ? '' : 's'} (${deps.timezone}): ${upcoming(deps, t, 3)}`,
          ].join('\n'),
        );
      },
      { approval: crossChat },
    ),
    tool(defs.listTasks, (identity) => {
      const tasks = identity.isMain ? store.tasks.listAll() : store.tasks.listByGroup(identity.groupFolder);
      if (!tasks.length)
        return ok(identity.isMain ? 'No scheduled tasks in any group.' : 'No scheduled tasks in this chat.');
      return ok(
        [
          `${tasks.length} scheduled task${tasks.length === 1 ? '' : 's'}${identity.isMain ? ' (all groups)' : ''}:`,
          ...tasks.map((t) => line(t, identity.isMain)),
        ].join('\n'),
      );
    }),
    tool(defs.getTask, (identity, data) => {
      const t = visible(identity, data.task_id);
      return 'error' in t ? refuse(t.error) : ok(detail(t));
    }),
    tool(defs.updateTask, (identity, data) => {
      const t = visible(identity, data.task_id);
      if ('error' in t) return refuse(t.error);
      const res = updateTask(deps, t, {
        prompt: data.prompt,
        scheduleType: data.schedule_type,
        scheduleValue: data.schedule_value === undefined ? undefined : String(data.schedule_value),
      });
      if (!res.ok) return refuse(res.error);
      const next = upcoming(deps, res.value, 3);
      return ok(
        `Updated task ${t.id}: ${describeSchedule(res.value, deps.timezone)}, ${res.value.status}.${next ? ` Next: ${next}` : ''}`,
      );
    }),
    tool(defs.pauseTask, (identity, data) => {
      const t = visible(identity, data.task_id);
      if ('error' in t) return refuse(t.error);
      const res = pauseTask(
        deps,
        t,
        identity.isMain && t.groupFolder !== identity.groupFolder ? 'from the main chat' : 'on request',
      );
      return res.ok
        ? ok(
            t.status === 'paused'
              ? `Task ${t.id} was already paused.`
              : `Paused task ${t.id}; resume_task starts it again.`,
          )
        : refuse(res.error);
    }),
    tool(defs.resumeTask, (identity, data) => {
      const t = visible(identity, data.task_id);
      if ('error' in t) return refuse(t.error);
      if (t.status === 'active') return ok(`Task ${t.id} is already active; next: ${upcoming(deps, t, 1) || 'none'}.`);
      const res = resumeTask(deps, t);
      return res.ok ? ok(`Resumed task ${t.id}. Next: ${upcoming(deps, res.value, 3) || 'none'}.`) : refuse(res.error);
    }),
    tool(defs.cancelTask, (identity, data) => {
      const t = visible(identity, data.task_id);
      if ('error' in t) return refuse(t.error);
      cancelTask(deps, t);
      return ok(`Cancelled task ${t.id} ("${excerpt(t.prompt)}"); it will not run again.`);
    }),
  ];
  // One transaction per call: a call that throws halfway changes nothing.
  return tools.map((t) => ({
    ...t,
    handle: (identity, args) => store.db.transaction(() => t.handle(identity, args))(),
  }));
}
