// The queue's jobs: agents tracked in `agents` (follow-ups, status, shutdown), refused when a run could only fail.
import { AgentFailure, final, startAgent, type AgentDeps, type LiveAgent } from './agent.js';
import type { RunAgent } from '../conversation/turn.js';
import { conversationJob, pendingFor, type ConversationDeps } from '../conversation/conversation.js';
import type { Job } from '../queue/group-queue.js';
import type { Store } from '../store/index.js';
import type { RegisteredGroup, SandboxRuntime } from '../types.js';

interface JobRunnerDeps {
  agent: Omit<AgentDeps, 'runtime'>;
  runtime: SandboxRuntime | null;
  runtimeProblems: readonly string[];
  conversation: ConversationDeps;
  agents: Map<string, LiveAgent>;
  /** Why this group's agent may not start now, or null. */
  refuseRun(group: RegisteredGroup): string | null;
  afterRun(group: RegisteredGroup): void;
  runTask(taskId: string, runAgent: RunAgent): Promise<void>;
}

/** The queue's `run`; 'again' when follow-ups were left for the next run. */
export function createJobRunner(deps: JobRunnerDeps) {
  const { conversation, runtime, agents } = deps;
  const { store } = conversation;
  const runAgent: RunAgent = async (group, job, onLive) => {
    if (!runtime)
      throw final(
        'no sandbox runtime',
        deps.runtimeProblems.find((p) => /runtime|bubblewrap/i.test(p)) ?? 'no sandbox runtime is available',
      );
    if (!deps.agent.config.credential)
      throw final('no credential', 'NanoClaw has no Anthropic credential (set ANTHROPIC_API_KEY in .env and restart)');
    const refused = deps.refuseRun(group);
    if (refused) throw final(`refused: ${refused}`, refused);
    const live = startAgent({ ...deps.agent, runtime }, group, job);
    if (!live) return;
    agents.set(group.jid, live);
    onLive?.(live);
    try {
      await live.done;
    } catch (err) {
      // Stopped on purpose (its owner's Stop): said, and not a failure to retry or report.
      if (err instanceof AgentFailure && err.told)
        return void store.outbox.enqueue(group.jid, err.told, { kind: 'system' });
      // The session cannot be resumed; the retry starts a fresh one.
      if (err instanceof AgentFailure && err.sessionNotFound) store.groups.clearSession(group.folder);
      throw err;
    } finally {
      if (agents.get(group.jid) === live) agents.delete(group.jid);
      deps.afterRun(group);
    }
  };
  return async (jid: string, job: Job): Promise<void | 'again'> => {
    // A task run records its own outcome (run log, next run) and never throws.
    if (job.kind === 'task') return deps.runTask(job.taskId, runAgent);
    const group = store.groups.get(jid);
    if (!group) return;
    const conversing = conversationJob(conversation, group, store.groups.session(group.folder) ?? null);
    await runAgent(group, { ...conversing, warm: job.warm }).catch((err) => job.warm || Promise.reject(err));
    // An agent that closed early (a due task, changed memory) or failed warm may leave follow-ups it never took.
    if (pendingFor(conversation, group).triggered) return 'again';
  };
}

/** After the last retry the chat hears why; its messages stay for the next try. Answers what it was told. */
export function tellGaveUp(store: Store, jid: string, err: unknown, tries: number): string {
  const why = err instanceof AgentFailure ? err.userMessage : 'something went wrong';
  const text = `⚠️ I couldn't answer: ${why}.${tries > 1 ? ` I tried ${tries} times.` : ''} Your messages are kept; send another message to try again${/credential|runtime|bubblewrap|quota|disk/.test(why) ? ' once this is fixed' : ''}.`;
  store.outbox.enqueue(jid, text, { kind: 'system' });
  return text;
}

export function enqueueUnanswered(conversation: ConversationDeps, enqueue: (jid: string) => void) {
  for (const group of conversation.store.groups.list())
    if (pendingFor(conversation, group).triggered) enqueue(group.jid);
}

/** A live sandbox finishes its turn first, then the session is cleared again. */
export function sessionReset(store: Store, agents: ReadonlyMap<string, LiveAgent>) {
  return async (folder: string) => {
    store.groups.clearSession(folder);
    const live = agents.get(store.groups.byFolder(folder)?.jid ?? '');
    if (!live) return;
    live.close();
    await live.done.catch(() => {});
    store.groups.clearSession(folder);
  };
}
