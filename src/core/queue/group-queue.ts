// One agent per group, `maxConcurrent` overall, failed runs retried with backoff (unanswered messages stay).
import type { Logger } from '../logger.js';

export type Job = { kind: 'messages'; warm?: boolean } | { kind: 'task'; taskId: string };

interface QueueDeps {
  maxConcurrent: number;
  retryBaseMs: number;
  maxRetries: number;
  /** Runs one job; 'again' when it left messages for this key it did not take (they run next). */
  run(key: string, job: Job): Promise<void | 'again'>;
  onGiveUp(key: string, job: Job, err: unknown, tries: number): void;
  /** Ask a running conversation (it may idle for minutes) to end after its turn. */
  yieldFor?(key: string): void;
  /** Since when the key's agent has waited idle for a follow-up; null while it works. */
  idleSince?(key: string): number | null;
  logger: Logger;
}

interface KeyState {
  running: Job | null;
  messages: boolean;
  tasks: string[];
  failures: number;
  retryTimer?: NodeJS.Timeout;
  yielding?: boolean;
}

export function createGroupQueue(deps: QueueDeps) {
  const { maxConcurrent: cap, logger } = deps;
  const states = new Map<string, KeyState>();
  const waiting: string[] = [];
  const idleWaiters: (() => void)[] = [];
  let active = 0;
  let peak = 0;
  let stopped = false;

  const state = (key: string): KeyState =>
    states.get(key) ?? states.set(key, { running: null, messages: false, tasks: [], failures: 0 }).get(key)!;
  const count = (f: (s: KeyState) => unknown) => [...states.values()].filter(f).length;
  const hasWork = (s: KeyState) => s.messages || s.tasks.length > 0;
  const isIdle = () => active === 0 && !count((s) => hasWork(s) || s.retryTimer);
  const why = (err: unknown) => String((err as Error)?.message ?? err);
  const queueUp = (key: string) => waiting.includes(key) || waiting.push(key);

  function schedule(key: string, warm?: boolean) {
    const s = state(key);
    if (stopped || s.running || s.retryTimer || !hasWork(s)) return;
    if (active >= cap) return void queueUp(key);
    // Scheduled tasks are due at a time; messages can wait one task's length.
    const taskId = s.tasks.shift();
    if (taskId === undefined) s.messages = false;
    const job: Job = taskId === undefined ? { kind: 'messages', warm } : { kind: 'task', taskId };
    s.running = job;
    s.yielding = false;
    peak = Math.max(peak, ++active);
    deps.run(key, job).then(
      (more) => {
        s.failures = 0;
        if (more === 'again') s.messages = true;
        finish(s, key);
      },
      (err) => {
        if (!stopped) failed(s, key, job, err);
        finish(s, key);
      },
    );
  }

  function failed(s: KeyState, key: string, job: Job, err: unknown) {
    const tries = ++s.failures;
    // Some failures would only repeat (a limit hit, no credential): say so at once.
    if ((err as { retryable?: boolean } | null)?.retryable === false || tries >= deps.maxRetries) {
      logger.error({ key, job, err: why(err) }, 'giving up after retries');
      s.failures = 0;
      try {
        deps.onGiveUp(key, job, err, tries);
      } catch (e) {
        logger.error({ e }, 'onGiveUp failed');
      }
      return;
    }
    if (job.kind === 'task') s.tasks.unshift(job.taskId);
    else s.messages = true;
    const delay = deps.retryBaseMs * 2 ** (tries - 1);
    logger.warn({ key, job, attempt: tries, delay, err: why(err) }, 'run failed; retrying');
    s.retryTimer = setTimeout(() => {
      s.retryTimer = undefined;
      schedule(key);
    }, delay);
  }

  function finish(s: KeyState, key: string) {
    s.running = null;
    active--;
    // More work for this group waits its turn behind groups already waiting.
    if (hasWork(s)) queueUp(key);
    // A group with a due task goes before groups that only have messages.
    while (active < cap && waiting.length) {
      const task = waiting.findIndex((k) => state(k).tasks.length);
      schedule(waiting.splice(Math.max(0, task), 1)[0]);
    }
    if (isIdle()) idleWaiters.splice(0).forEach((r) => r());
  }

  /** A task for `key` could not start: ask a conversation to make way, its own or (at the cap) another's. */
  function makeRoomFor(key: string) {
    const s = state(key);
    if (s.running?.kind === 'task' || s.retryTimer) return;
    let target: string | undefined = key;
    if (!s.running) {
      // One freed slot per waiting task: do not close more conversations than that.
      const waitingTasks = count((x) => x.tasks.length && !x.running && !x.retryTimer);
      if (active < cap || count((x) => x.running && x.yielding && !x.tasks.length) >= waitingTasks) return;
      target = [...states].find(([, x]) => x.running?.kind === 'messages' && !x.yielding)?.[0];
    }
    if (target !== undefined && !state(target).yielding) makeWay(target);
  }

  /** Chats waiting at the cap take the slot of the agent idle longest (its session kept); a busy one is never asked. */
  function makeRoom() {
    if (active < cap || count((x) => x.running && x.yielding) >= waiting.length) return;
    let idlest: string | undefined;
    let since = Infinity;
    for (const [key, x] of states) {
      const t = x.running?.kind === 'messages' && !x.yielding ? deps.idleSince?.(key) : null;
      if (t != null && t < since) [idlest, since] = [key, t];
    }
    if (idlest !== undefined) makeWay(idlest);
  }

  function makeWay(key: string) {
    state(key).yielding = true;
    try {
      deps.yieldFor?.(key);
    } catch (err) {
      logger.warn({ key, err: why(err) }, 'could not ask a conversation to make way');
    }
  }

  return {
    enqueueMessages(key: string) {
      state(key).messages = true;
      schedule(key);
      makeRoom();
    },
    enqueueTask(key: string, taskId: string) {
      const s = state(key);
      if (!s.tasks.includes(taskId) && !(s.running?.kind === 'task' && s.running.taskId === taskId))
        s.tasks.push(taskId);
      schedule(key);
      if (s.tasks.length) makeRoomFor(key);
    },
    makeRoom,
    /** A warm agent, only in a free slot nobody waits for. */
    warm(key: string) {
      const s = state(key);
      if (active < cap && !waiting.length && !s.running) schedule(key, (s.messages = true));
    },
    activeCount: () => active,
    peakCount: () => peak,
    waitingCount: () => waiting.length,
    idle: (): Promise<void> => (isIdle() ? Promise.resolve() : new Promise((r) => idleWaiters.push(r))),
    stop() {
      stopped = true;
      for (const s of states.values()) {
        clearTimeout(s.retryTimer);
        s.retryTimer = undefined;
      }
    },
  };
}

export type GroupQueue = ReturnType<typeof createGroupQueue>;
