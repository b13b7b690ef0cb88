// The scheduler: one timer, set for the next due task and re-armed whenever a
// task changes, so nothing polls. A due task goes to the group queue like a
// message would; when its turn comes, `runTask` claims it in the store (so it
// never runs twice at once, even across a restart), runs it as a full agent in
// its group's sandbox, and records the run.
import { AgentFailure } from '../../core/agent/agent.js';
import type { AgentJob, RunAgent } from '../../core/conversation/turn.js';
import type { Logger } from '../../core/logger.js';
import { stripInternal } from '../../core/conversation/router.js';
import { formatLocal, nextRun, parseTimestamp } from './schedule.js';
import type { Store } from '../../core/store/index.js';
import type { ScheduledTask } from './store.js';
import type { RegisteredGroup } from '../../core/types.js';

export interface SchedulerDeps {
  store: Store;
  queue: { enqueueTask(key: string, taskId: string): void };
  timezone: string;
  /** A claim older than this belongs to a run that died with its host (the agent timeout). */
  staleMs: number;
  logger: Logger;
  /** The clock (tests move it instead of waiting). */
  now?: () => number;
}

/** One claimed run of a task, ready for an agent. */
export interface TaskRunHandle {
  group: RegisteredGroup;
  job: AgentJob;
  /** The live agent, so a run over its token budget can be stopped. */
  attach(agent: { kill(reason: string): void }): void;
  /** Records how the run ended and moves the schedule on. `retrying`: give the claim back and leave the schedule as it is. */
  finish(error: unknown, opts?: { retrying?: boolean }): void;
}

// setTimeout runs on a monotonic clock that stands still while the machine
// sleeps; waking at least hourly keeps a far-off task from firing days late.
const MAX_SLEEP_MS = 3600_000;

const iso = (ms: number) => new Date(ms).toISOString();
const excerpt = (s: string, n = 60) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

export function createScheduler(deps: SchedulerDeps) {
  const { store, logger } = deps;
  const now = deps.now ?? Date.now;
  /** Handed to the queue and not finished yet: never enqueued twice. */
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let inFlight = 0;
  const idleWaiters: (() => void)[] = [];

  const staleBefore = (t: number) => iso(t - deps.staleMs);

  function groupGone(task: ScheduledTask): void {
    const reason = `Paused: its group (folder "${task.groupFolder}") is no longer registered. Register that chat again, then resume the task.`;
    store.tasks.setStatus(task.id, 'paused', { reason });
    logger.warn({ task: task.id, folder: task.groupFolder }, 'paused a task whose group is gone');
    const main = store.groups.main();
    if (main && main.folder !== task.groupFolder) {
      store.outbox.enqueue(
        main.jid,
        `⏸️ Scheduled task ${task.id} ("${excerpt(task.prompt)}") is paused: its group "${task.groupFolder}" is no longer registered.`,
        { kind: 'system' },
      );
    }
  }

  function arm(at: number): void {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (stopped) return;
    let wake = Infinity;
    for (const t of store.tasks.active()) {
      if (pending.has(t.id) || !t.nextRun) continue;
      let due = Date.parse(t.nextRun);
      // Held by another (or a dead) host: look again when that claim goes stale.
      if (t.runningSince) due = Math.max(due, Date.parse(t.runningSince) + deps.staleMs + 1);
      wake = Math.min(wake, due);
    }
    if (wake === Infinity) return;
    timer = setTimeout(check, Math.min(Math.max(wake - at, 0), MAX_SLEEP_MS));
    timer.unref?.();
  }

  /** Hands every due task to the queue, then sleeps until the next one. */
  function check(): void {
    timer = null;
    if (stopped) return;
    const t = now();
    try {
      for (const task of store.tasks.due(iso(t), staleBefore(t))) {
        if (pending.has(task.id)) continue;
        const group = store.groups.byFolder(task.groupFolder);
        if (!group) {
          groupGone(task);
          continue;
        }
        pending.add(task.id);
        deps.queue.enqueueTask(group.jid, task.id);
      }
      arm(t);
    } catch (err) {
      logger.error({ err }, 'scheduler check failed');
    }
  }

  function settle(taskId: string): void {
    pending.delete(taskId);
    check();
  }

  function taskJob(taskId: string): TaskRunHandle | null {
    const task = store.tasks.get(taskId);
    const started = now();
    if (!task || task.status !== 'active' || !task.nextRun || Date.parse(task.nextRun) > started) {
      settle(taskId);
      return null;
    }
    const group = store.groups.byFolder(task.groupFolder);
    if (!group) {
      groupGone(task);
      settle(taskId);
      return null;
    }
    if (!store.tasks.claim(task.id, iso(started), staleBefore(started))) {
      logger.info({ task: task.id }, 'task is already running elsewhere; not starting it twice');
      settle(taskId);
      return null;
    }
    const runId = store.tasks.startRun(task.id, iso(started));
    // Durations and usage rows are wall-clock facts, whatever clock schedules.
    const wallStart = Date.now();
    const session = task.contextMode === 'group' ? (store.groups.session(group.folder) ?? null) : null;
    let handedOver = false;
    let resultText: string | null = null;
    let used = 0;
    let overBudget = false;
    let agent: { kill(reason: string): void } | null = null;
    const budgetReason = () => `its run used ${used} tokens, over its budget of ${task.budgetTokens}`;

    const job: AgentJob = {
      sessionId: session,
      isScheduledTask: true,
      taskId: task.id,
      acceptsFollowUps: false,
      firstTurn() {
        if (handedOver) return null;
        handedOver = true;
        return {
          prompt: [
            `[Scheduled task ${task.id}, ${formatLocal(started, deps.timezone)}]`,
            'This is a scheduled run, not a live message. Your final answer is posted to the chat; when there is nothing worth saying, answer only with <internal>…</internal> and nothing is sent.',
            '',
            task.prompt,
          ].join('\n'),
        };
      },
      nextTurn: () => null,
      onResult(text, sessionId) {
        resultText = stripInternal(text);
        if (resultText) store.outbox.enqueue(group.jid, resultText, { kind: 'task' });
        if (task.contextMode === 'group' && sessionId) store.groups.setSession(group.folder, sessionId);
      },
      onUsage(tokens) {
        used += tokens;
        if (task.budgetTokens && used > task.budgetTokens && !overBudget) {
          overBudget = true;
          agent?.kill(budgetReason());
        }
      },
    };

    return {
      group,
      job,
      attach(a) {
        agent = a;
        if (overBudget) a.kill(budgetReason());
      },
      finish(error, opts = {}) {
        try {
          record(task, group, runId, started, wallStart, {
            error,
            retrying: !!opts.retrying,
            overBudget,
            reason: budgetReason(),
            resultText,
          });
        } catch (err) {
          logger.error({ err, task: task.id }, 'could not record a task run');
        }
        if (!opts.retrying) settle(task.id);
      },
    };
  }

  function record(
    task: ScheduledTask,
    group: RegisteredGroup,
    runId: number,
    started: number,
    wallStart: number,
    r: { error: unknown; retrying: boolean; overBudget: boolean; reason: string; resultText: string | null },
  ): void {
    const ended = now();
    // The usage meter is the health plugin's; without it a run's tokens are not known.
    const tokens = store.usage?.taskTotals(task.id, iso(wallStart)) ?? { inputTokens: 0, outputTokens: 0 };
    const base = {
      durationMs: Date.now() - wallStart,
      inputTokens: tokens.inputTokens,
      outputTokens: tokens.outputTokens,
    };
    // The task may have been changed or cancelled while it ran: a new schedule keeps the next run it was given.
    const current = store.tasks.get(task.id);
    const rescheduled =
      !current || current.scheduleType !== task.scheduleType || current.scheduleValue !== task.scheduleValue;
    const following = rescheduled
      ? current?.nextRun
        ? Date.parse(current.nextRun)
        : null
      : nextRun(
          { type: task.scheduleType, value: task.scheduleValue },
          { now: ended, timezone: deps.timezone, previousDue: Date.parse(task.nextRun!) },
        );
    const nextIso = following === null ? null : iso(following);
    const tell = (text: string) => {
      store.outbox.enqueue(group.jid, text, { kind: 'system' });
    };

    if (r.overBudget) {
      store.tasks.finishRun(runId, { ...base, status: 'over_budget', error: `Stopped: ${r.reason}.` });
      store.tasks.finish(task.id, {
        lastRun: iso(started),
        lastResult: `Stopped: ${r.reason}.`,
        nextRun: nextIso,
        status: 'paused',
        statusReason: `Paused: ${r.reason}. Resume it to let it run again (or schedule it anew with a larger budget_tokens).`,
      });
      tell(
        `⏸️ I stopped the scheduled task ${task.id} ("${excerpt(task.prompt)}") and paused it: ${r.reason}. Resume it to let it run again.`,
      );
      return;
    }
    if (r.error) {
      const why =
        r.error instanceof AgentFailure ? r.error.userMessage : ((r.error as Error)?.message ?? String(r.error));
      if (r.retrying || stopped) {
        // The schedule stays where it was: the retry (or the next start) runs it.
        store.tasks.finishRun(runId, {
          ...base,
          status: 'error',
          error: r.retrying ? `${why}; retrying with a fresh session` : `interrupted: ${why}`,
        });
        store.tasks.release(task.id);
        return;
      }
      store.tasks.finishRun(runId, { ...base, status: 'error', error: why });
      if (task.scheduleType === 'once' && !rescheduled) {
        store.tasks.finish(task.id, {
          lastRun: iso(started),
          lastResult: `Error: ${why}`,
          nextRun: null,
          status: 'paused',
          statusReason: `Paused: its run failed (${why}). Resume it to run it again now.`,
        });
        tell(
          `⚠️ The scheduled task ${task.id} ("${excerpt(task.prompt)}") failed: ${why}. It is paused; resume it to try again.`,
        );
      } else {
        store.tasks.finish(task.id, { lastRun: iso(started), lastResult: `Error: ${why}`, nextRun: nextIso });
      }
      logger.warn({ task: task.id, why }, 'scheduled task run failed');
      return;
    }
    const result = r.resultText || '(ran without posting a message)';
    store.tasks.finishRun(runId, { ...base, status: 'success', result: excerpt(result, 10_000) });
    store.tasks.finish(task.id, {
      lastRun: iso(started),
      lastResult: excerpt(result, 2000),
      nextRun: nextIso,
      ...(following === null && !rescheduled
        ? { status: 'completed' as const, statusReason: completedReason(task, started, deps.timezone) }
        : {}),
    });
  }

  /** Runs one queued task to the end; never throws (a failed run is in its log). */
  async function runTask(taskId: string, runAgent: RunAgent): Promise<void> {
    inFlight++;
    try {
      // A session that can no longer be resumed is cleared by runAgent; one
      // more try then starts fresh, and cannot hit the same problem again.
      for (let attempt = 1; attempt <= 2; attempt++) {
        const run = taskJob(taskId);
        if (!run) return;
        let error: unknown = null;
        try {
          await runAgent(run.group, run.job, run.attach);
        } catch (err) {
          error = err;
        }
        const retry =
          attempt === 1 &&
          !stopped &&
          error instanceof AgentFailure &&
          error.sessionNotFound &&
          run.job.sessionId !== null;
        run.finish(error, { retrying: retry });
        if (!retry) return;
      }
    } catch (err) {
      logger.error({ err, task: taskId }, 'scheduled task run crashed');
      pending.delete(taskId);
    } finally {
      inFlight--;
      if (inFlight === 0) idleWaiters.splice(0).forEach((r) => r());
    }
  }

  return {
    start(): void {
      stopped = false;
      check();
    },
    /** A task was created, changed or removed: look again. */
    changed(): void {
      check();
    },
    /** Fires whatever is due now (also what the timer calls). */
    check,
    taskJob,
    runTask,
    stop(): void {
      stopped = true;
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
    },
    /** Resolves when no task run is recording its outcome (shutdown waits for it). */
    idle(): Promise<void> {
      return inFlight === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r));
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;

/** When a once task ran, and how late if the host was down or busy at its time. */
export function completedReason(
  task: Pick<ScheduledTask, 'nextRun' | 'scheduleValue'>,
  started: number,
  timezone: string,
): string {
  const due = task.nextRun ? Date.parse(task.nextRun) : (parseTimestamp(task.scheduleValue, timezone) ?? NaN);
  const late = Number.isNaN(due) ? 0 : started - due;
  const when = formatLocal(started, timezone);
  if (late < 60_000) return `Completed: it ran once, at ${when}.`;
  const mins = Math.round(late / 60_000);
  const by = mins < 120 ? `${mins} min` : `${Math.round(mins / 60)} h`;
  return `Completed: it ran once, at ${when}, ${by} late (it was due ${formatLocal(due, timezone)}).`;
}
