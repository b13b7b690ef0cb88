// Model health: what the chats and the owner hear while the model API fails (a
// delay notice after a while, a refused credential at once, an upstream that does
// not answer at all), and the current problem for status. The gateway classifies
// each answer (core/gateway/model-problem.ts).
import type { ModelOutcome, ModelProblem } from '../../core/gateway/model-problem.js';
import { describeProblem } from '../../core/gateway/model-problem.js';

/** A duration in ms from the environment (NANOCLAW_DELAY_NOTICE_MS, NANOCLAW_MODEL_SILENCE_MS), else the default. */
export function envMs(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const n = Number(env[name]);
  return env[name] && Number.isFinite(n) && n >= 0 ? n : fallback;
}

export interface ModelHealthDeps {
  /** How long a chat waits on a failing upstream before it hears that its answer is delayed. */
  delayNoticeMs: number;
  /** How long a model call may go without response headers before the chat hears the upstream is not answering. */
  silenceMs: number;
  /** ANTHROPIC_BASE_URL, named in that notice. */
  upstream: string;
  /** A system message to a chat. */
  tell(jid: string, text: string): void;
  /** A notice for the owner's main chat. */
  tellOwner(text: string): void;
  /** Kept in the error log (the dashboard's Activity page). */
  recordError(folder: string | null, jid: string | null, text: string): void;
  isMain(jid: string): boolean;
}

export interface ModelCaller {
  groupFolder: string;
  chatJid: string;
  taskId: string | null;
}

/**
 * The host's view of the model API across chats: the current problem (for
 * status, cleared by the next call that succeeds), a delay notice per chat that
 * has waited too long, and the owner told once when the credential is refused.
 */
export function createModelHealth(deps: ModelHealthDeps) {
  let current: ModelProblem | null = null;
  let ownerTold = false;
  let recoveredAt: string | null = null;
  const waits = new Map<string, { timer: NodeJS.Timeout | null; told: boolean }>();
  // Calls the upstream has not answered yet (timer → chat), and the chats told so in this outage.
  const silent = new Map<NodeJS.Timeout, string>();
  const toldSilent = new Set<string>();

  const endWait = (jid: string): void => {
    const w = waits.get(jid);
    if (w?.timer) clearTimeout(w.timer);
    waits.delete(jid);
  };
  const settle = (jid: string): void => {
    endWait(jid);
    for (const [timer, j] of silent)
      if (j === jid) {
        clearTimeout(timer);
        silent.delete(timer);
      }
  };

  // A wrong ANTHROPIC_BASE_URL may accept the connection and never answer: the SDK waits minutes per try.
  function request(caller: ModelCaller, answered: Promise<unknown>): void {
    const timer = setTimeout(() => {
      silent.delete(timer);
      const noAnswer = `not answering at ${deps.upstream} (no answer for ${deps.silenceMs / 1000} s)`;
      const message = `the model API is ${noAnswer}`;
      if (current?.message !== message) {
        current = {
          kind: 'unavailable',
          status: null,
          message,
          fix: 'if that address is wrong, fix ANTHROPIC_BASE_URL in .env and restart; NanoClaw keeps waiting and retrying',
          at: new Date().toISOString(),
        };
        deps.recordError(caller.groupFolder, caller.chatJid, `${message}.`);
      }
      if (caller.taskId || toldSilent.has(caller.chatJid)) return;
      toldSilent.add(caller.chatJid);
      deps.tell(
        caller.chatJid,
        `⏳ The model API is ${noAnswer}. If that address is wrong, fix ANTHROPIC_BASE_URL in .env and restart; your message is kept and answered when the API answers.`,
      );
    }, deps.silenceMs);
    timer.unref?.();
    silent.set(timer, caller.chatJid);
    const done = () => {
      clearTimeout(timer);
      silent.delete(timer);
    };
    answered.then(done, done);
  }

  function report(caller: ModelCaller, outcome: ModelOutcome): void {
    if (outcome.ok) {
      if (current || recoveredAt === null) recoveredAt = new Date().toISOString();
      current = null;
      ownerTold = false;
      toldSilent.clear();
      endWait(caller.chatJid);
      return;
    }
    const p = outcome.problem;
    const fresh = !current || current.kind !== p.kind || current.message !== p.message;
    current = p;
    if (fresh) deps.recordError(caller.groupFolder, caller.chatJid, `${describeProblem(p)}.`);
    if (p.kind === 'auth') {
      endWait(caller.chatJid);
      if (!ownerTold && !deps.isMain(caller.chatJid)) {
        ownerTold = true;
        deps.tellOwner(
          `⚠️ The model API refused NanoClaw's credential, so no chat can get an answer. To fix it: ${p.fix}.`,
        );
      } else ownerTold = true;
      return;
    }
    // A scheduled task records its own outcome; a conversation hears about the wait.
    if (caller.taskId || waits.has(caller.chatJid)) return;
    const wait = { timer: null as NodeJS.Timeout | null, told: false };
    wait.timer = setTimeout(() => {
      wait.timer = null;
      wait.told = true;
      deps.tell(
        caller.chatJid,
        `⏳ My answer is delayed: ${(current ?? p).message}. I keep retrying and will answer here when it works, or tell you if I give up.`,
      );
    }, deps.delayNoticeMs);
    wait.timer.unref?.();
    waits.set(caller.chatJid, wait);
  }

  return {
    report,
    request,
    /** The run for this chat ended (answered or given up): no delay notice after this. */
    settle,
    current: (): ModelProblem | null => current,
    /** When a model call last succeeded after a problem: errors before it are over. */
    recoveredAt: (): string | null => recoveredAt,
    stop(): void {
      for (const jid of [...waits.keys(), ...silent.values()]) settle(jid);
    },
  };
}

export type ModelHealth = ReturnType<typeof createModelHealth>;
