// One agent per group, `maxConcurrent` overall, failed runs retried with backoff (unanswered messages stay).
import type { Logger } from '../logger.js';

export type Job = { kind: 'messages' } | { kind: 'task'; taskId: string };

export interface QueueDeps {
  maxConcurrent: number;
  retryBaseMs: number;
  maxRetries: number;
  /** Runs one job; 'again' when it left messages for this key it did not take (they run next). */
  run(key: string, job: Job): Promise<void | 'again'>;
  onGiveUp(key: string, job: Job, err: unknown, tries: number): void;
  /** Ask a running conversation, which may idle for minutes, to end after its turn so a due task runs next. */
  yieldFor?(key: string): void;
  logger: Logger;
}

interface KeyState {
  running: Job | null;
  messages: boolean;
  tasks: string[];
  failures: number;
  retryTimer: NodeJS.Timeout | null;
  yielding: boolean;
}

export function createGroupQueue(deps: QueueDeps) {
  const states = new Map<string, KeyState>();
  const waiting: string[] = [];
  let active = 0;
  let peak = 0;
  let stopped = false;
  const idleWaiters: (() => void)[] = [];

  const state = (key: string): KeyState => {
    let s = states.get(key);
    if (!s) {
      s = { running: null, messages: false, tasks: [], failures: 0, retryTimer: null, yielding: false };
      states.set(key, s);
    }
    return s;
  };

  const hasWork = (s: KeyState) => s.messages || s.tasks.length > 0;
  const isIdle = () => active === 0 && ![...states.values()].some((x) => hasWork(x) || x.retryTimer);
  const why = (err: unknown) => String((err as Error)?.message ?? err);

  function takeJob(s: KeyState): Job | null {
    // Scheduled tasks are due at a time; messages can wait one task's length.
    const task = s.tasks.shift();
    if (task) return { kind: 'task', taskId: task };
    if (s.messages) {
      s.messages = false;
      return { kind: 'messages' };
    }
    return null;
  }

  function schedule(key: string): void {
    if (stopped) return;
    const s = state(key);
    if (s.running || s.retryTimer || !hasWork(s)) return;
    if (active >= deps.maxConcurrent) {
      if (!waiting.includes(key)) waiting.push(key);
      return;
    }
    const job = takeJob(s);
    if (!job) return;
    s.running = job;
    s.yielding = false;
    active++;
    peak = Math.max(peak, active);
    deps.run(key, job).then(
      (more) => {
        s.failures = 0;
        if (more === 'again') s.messages = true;
        finish(key);
      },
      (err) => {
        if (stopped) {
          finish(key);
          return;
        }
        s.failures++;
        // Some failures would only repeat (a limit hit, no credential): say so at once.
        const final = (err as { retryable?: boolean } | null)?.retryable === false;
        if (final || s.failures >= deps.maxRetries) {
          deps.logger.error({ key, job, err: why(err) }, 'giving up after retries');
          const tries = s.failures;
          s.failures = 0;
          try {
            deps.onGiveUp(key, job, err, tries);
          } catch (e) {
            deps.logger.error({ e }, 'onGiveUp failed');
          }
          finish(key);
          return;
        }
        if (job.kind === 'task') s.tasks.unshift(job.taskId);
        else s.messages = true;
        const delay = deps.retryBaseMs * 2 ** (s.failures - 1);
        deps.logger.warn({ key, job, attempt: s.failures, delay, err: why(err) }, 'run failed; retrying');
        s.retryTimer = setTimeout(() => {
          s.retryTimer = null;
          schedule(key);
        }, delay);
        finish(key);
      },
    );
  }

  function finish(key: string): void {
    const s = state(key);
    s.running = null;
    active--;
    // More work for this group waits its turn behind groups already waiting.
    if (hasWork(s) && !waiting.includes(key)) waiting.push(key);
    while (active < deps.maxConcurrent && waiting.length) {
      // A group with a due task goes before groups that only have messages.
      const i = Math.max(
        0,
        waiting.findIndex((k) => state(k).tasks.length > 0),
      );
      schedule(waiting.splice(i, 1)[0]);
    }
    if (isIdle()) idleWaiters.splice(0).forEach((r) => r());
  }

  /** A task for `key` could not start: ask a conversation to make way, its own or (at the cap) another's. */
  function makeRoomFor(key: string): void {
    const s = state(key);
    if (s.running?.kind === 'task' || s.retryTimer) return;
    let target: string | undefined;
    if (s.running?.kind === 'messages') target = key;
    else if (!s.running && active >= deps.maxConcurrent) {
      // One freed slot per waiting task: do not close more conversations than that.
      const all = [...states.values()];
      const waitingTasks = all.filter((x) => x.tasks.length && !x.running && !x.retryTimer).length;
      const freeing = all.filter((x) => x.running && x.yielding && !x.tasks.length).length;
      if (freeing >= waitingTasks) return;
      target = [...states.entries()].find(([, x]) => x.running?.kind === 'messages' && !x.yielding)?.[0];
    }
    if (target === undefined) return;
    const t = state(target);
    if (t.yielding) return;
    t.yielding = true;
    try {
      deps.yieldFor?.(target);
    } catch (err) {
      deps.logger.warn({ key: target, err: why(err) }, 'could not ask a conversation to make way for a task');
    }
  }

  return {
    enqueueMessages(key: string): void {
      state(key).messages = true;
      schedule(key);
    },
    enqueueTask(key: string, taskId: string): void {
      const s = state(key);
      if (!s.tasks.includes(taskId) && !(s.running?.kind === 'task' && s.running.taskId === taskId))
        s.tasks.push(taskId);
      schedule(key);
      if (s.tasks.length) makeRoomFor(key);
    },
    activeCount: () => active,
    peakCount: () => peak,
    waitingCount: () => waiting.length,
    idle(): Promise<void> {
      if (isIdle()) return Promise.resolve();
      return new Promise((r) => idleWaiters.push(r));
    },
    stop(): void {
      stopped = true;
      for (const s of states.values())
        if (s.retryTimer) {
          clearTimeout(s.retryTimer);
          s.retryTimer = null;
        }
    },
  };
}

export type GroupQueue = ReturnType<typeof createGroupQueue>;
