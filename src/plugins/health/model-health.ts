// Model health: what the chats and the owner hear while the model API fails (a
// delay notice after a while, a refused credential at once), and the current
// problem for status. The gateway classifies each answer (core/gateway/model-problem.ts).
import type { ModelOutcome, ModelProblem } from '../../core/gateway/model-problem.js';
import { describeProblem } from '../../core/gateway/model-problem.js';

/** NANOCLAW_DELAY_NOTICE_MS: how long a chat waits on a failing model API before it hears why (default 30 s). */
export function delayNoticeMs(env: Readonly<Record<string, string | undefined>>): number {
  const n = Number(env.NANOCLAW_DELAY_NOTICE_MS);
  return env.NANOCLAW_DELAY_NOTICE_MS && Number.isFinite(n) && n >= 0 ? n : 30_000;
}

export interface ModelHealthDeps {
  /** How long a chat waits on a failing upstream before it hears that its answer is delayed. */
  delayNoticeMs: number;
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

  const settle = (jid: string): void => {
    const w = waits.get(jid);
    if (w?.timer) clearTimeout(w.timer);
    waits.delete(jid);
  };

  function report(caller: ModelCaller, outcome: ModelOutcome): void {
    if (outcome.ok) {
      if (current || recoveredAt === null) recoveredAt = new Date().toISOString();
      current = null;
      ownerTold = false;
      settle(caller.chatJid);
      return;
    }
    const p = outcome.problem;
    const fresh = !current || current.kind !== p.kind || current.message !== p.message;
    current = p;
    if (fresh) deps.recordError(caller.groupFolder, caller.chatJid, `${describeProblem(p)}.`);
    if (p.kind === 'auth') {
      settle(caller.chatJid);
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
    /** The run for this chat ended (answered or given up): no delay notice after this. */
    settle,
    current: (): ModelProblem | null => current,
    /** When a model call last succeeded after a problem: errors before it are over. */
    recoveredAt: (): string | null => recoveredAt,
    stop(): void {
      for (const jid of [...waits.keys()]) settle(jid);
    },
  };
}

export type ModelHealth = ReturnType<typeof createModelHealth>;
