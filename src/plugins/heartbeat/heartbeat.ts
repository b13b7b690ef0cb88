// A quiet heartbeat: every N minutes (a chat's sandbox.heartbeatMinutes; off unless set) outside quiet hours in the
// owner's time zone, an isolated agent run (no chat session, its own token budget) reads HEARTBEAT.md in the chat's
// folder and answers HEARTBEAT_OK unless something is worth saying; only then does one message reach the chat. A
// chat without HEARTBEAT.md is skipped without a run. Every beat's decision is recorded.
import fs from 'node:fs';
import path from 'node:path';
import { resolveGroupFolder, type HomePaths } from '../../core/config/home.js';
import type { AgentJob, RunAgent } from '../../core/conversation/turn.js';
import { stripInternal } from '../../core/conversation/router.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../core/store/index.js';
import type { RegisteredGroup } from '../../core/types.js';
import type { Decision } from './store.js';

declare module '../../core/types.js' {
  interface SandboxSettings {
    /** Minutes between beats; unset: no heartbeat. */
    heartbeatMinutes?: number;
    /** "HH:MM-HH:MM" in the owner's time zone with no beat, or "off"; unset: 22:00-07:00. */
    heartbeatQuiet?: string;
  }
}

export const SENTINEL = 'HEARTBEAT_OK';
export const DEFAULT_MINUTES = 30;
const DEFAULT_QUIET = '22:00-07:00';
const TASK_PREFIX = 'heartbeat:';
const QUIET = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

export const quietProblem = (quiet: unknown): string | null =>
  quiet === 'off' || (typeof quiet === 'string' && QUIET.test(quiet))
    ? null
    : `heartbeatQuiet must be hours such as 22:00-07:00 (in your time zone), or off; not "${String(quiet).slice(0, 50)}".`;

export const minutesProblem = (minutes: unknown): string | null =>
  Number.isInteger(minutes) && (minutes as number) >= 5 && (minutes as number) <= 1440
    ? null
    : `heartbeatMinutes must be a whole number of minutes from 5 to 1440, not "${String(minutes).slice(0, 50)}".`;

/** Whether `at` falls in the quiet hours ("22:00-07:00" spans midnight) in `timezone`. */
export function isQuiet(at: number, quiet: string | undefined, timezone: string): boolean {
  const m = QUIET.exec(quiet ?? DEFAULT_QUIET);
  if (!m) return false;
  const [from, to] = [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])];
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const local =
    Number(parts.find((p) => p.type === 'hour')!.value) * 60 + Number(parts.find((p) => p.type === 'minute')!.value);
  return from <= to ? local >= from && local < to : local >= from || local < to;
}

/** What of the agent's answer reaches the chat: nothing for the sentinel (alone) or an empty answer. */
export function worthSaying(answer: string): string {
  const text = stripInternal(answer)
    .replace(new RegExp(`\\**${SENTINEL}\\**`, 'g'), '')
    .trim();
  return /^[\s.!*`_-]*$/.test(text) ? '' : text;
}

export interface HeartbeatDeps {
  store: Store;
  paths: HomePaths;
  queue: { enqueueTask(key: string, taskId: string): void };
  timezone: string;
  /** Tokens one beat may use before it is stopped. */
  budgetTokens: number;
  logger: Logger;
  now?: () => number;
}

export function createHeartbeat(deps: HeartbeatDeps) {
  const { store, logger } = deps;
  const now = deps.now ?? Date.now;
  // By folder: when its last beat was due (the host's start for the first), and beats handed to the queue.
  const last = new Map<string, number>();
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  const record = (folder: string, decision: Decision, detail: string) =>
    store.heartbeats.record({ at: new Date(now()).toISOString(), groupFolder: folder, decision, detail });
  const file = (group: RegisteredGroup) => path.join(resolveGroupFolder(deps.paths, group.folder), 'HEARTBEAT.md');

  /** Hands a beat for this chat to its queue (after its current work); false when one is already waiting. */
  function beat(group: RegisteredGroup): boolean {
    if (pending.has(group.folder)) return false;
    if (!fs.existsSync(file(group))) {
      record(group.folder, 'skipped', `no HEARTBEAT.md in groups/${group.folder}: write there what to look at`);
      return true;
    }
    pending.add(group.folder);
    deps.queue.enqueueTask(group.jid, TASK_PREFIX + group.folder);
    return true;
  }

  /** Each minute: every chat whose beat is due, outside its quiet hours. */
  function check(): void {
    const t = now();
    for (const group of store.groups.list()) {
      const minutes = group.sandbox.heartbeatMinutes;
      if (!minutes) {
        last.delete(group.folder);
        continue;
      }
      const since = last.get(group.folder) ?? last.set(group.folder, t).get(group.folder)!;
      if (t - since < minutes * 60_000) continue;
      last.set(group.folder, t);
      if (!isQuiet(t, group.sandbox.heartbeatQuiet, deps.timezone)) beat(group);
    }
  }

  /** The queue's turn for a beat: one isolated run; false for another plugin's task. */
  async function runTask(taskId: string, run: RunAgent): Promise<void | false> {
    if (!taskId.startsWith(TASK_PREFIX)) return false;
    const folder = taskId.slice(TASK_PREFIX.length);
    pending.delete(folder);
    const group = store.groups.byFolder(folder);
    if (!group) return;
    let answer: string | null = null;
    let used = 0;
    let agent: { kill(reason: string): void } | null = null;
    const over = () => `the beat used ${used} tokens, over its budget of ${deps.budgetTokens}`;
    let handed = false;
    const job: AgentJob = {
      sessionId: null,
      isScheduledTask: true,
      taskId,
      acceptsFollowUps: false,
      firstTurn: () =>
        handed
          ? null
          : ((handed = true),
            {
              prompt: [
                `[Heartbeat, ${new Date(now()).toLocaleString('en-GB', { timeZone: deps.timezone })}]`,
                'This is a heartbeat, not a live message. Read HEARTBEAT.md in your folder and check what it asks you ' +
                  'to look at. Only if something is worth telling the chat now, answer with that message. Otherwise ' +
                  `answer exactly ${SENTINEL}: nothing is sent.`,
              ].join('\n'),
            }),
      nextTurn: () => null,
      onResult: (text) => {
        answer = worthSaying(text);
        if (answer) store.outbox.enqueue(group.jid, answer, { kind: 'task' });
      },
      onUsage: (tokens) => {
        used += tokens;
        if (used > deps.budgetTokens) agent?.kill(over());
      },
    };
    try {
      await run(group, job, (a) => {
        agent = a;
        if (used > deps.budgetTokens) a.kill(over());
      });
      if (answer === null) record(folder, 'failed', 'the agent gave no answer');
      else record(folder, answer ? 'said' : 'quiet', answer);
    } catch (err) {
      const why = (err as { userMessage?: string }).userMessage ?? (err as Error).message;
      record(folder, 'failed', used > deps.budgetTokens ? `stopped: ${over()}` : why);
      logger.warn({ group: folder, err: (err as Error).message }, 'heartbeat failed');
    }
  }

  /** Chats with a heartbeat on, with their last decision; and what the owner should fix. */
  const on = () => store.groups.list().filter((g) => g.sandbox.heartbeatMinutes);
  const status = () =>
    on().map((g) => ({
      folder: g.folder,
      everyMinutes: g.sandbox.heartbeatMinutes!,
      quiet: g.sandbox.heartbeatQuiet ?? DEFAULT_QUIET,
      last: store.heartbeats.recent(g.folder, 1)[0] ?? null,
    }));
  const problems = () =>
    on()
      .filter((g) => !fs.existsSync(file(g)))
      .map(
        (g) =>
          `Chat "${g.name}" has a heartbeat but no groups/${g.folder}/HEARTBEAT.md: write there what to look at, ` +
          `or run "nanoclaw groups set ${g.folder} heartbeat=off".`,
      );

  return {
    beat,
    check,
    status,
    problems,
    runTask,
    start() {
      timer = setInterval(check, 60_000);
      timer.unref?.();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
