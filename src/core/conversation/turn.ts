// Who started a turn, fixed by the host when the turn's prompt is built and
// handed to every tool call of that turn with the caller's identity. The model
// never passes it, and nothing re-derives it from the store later: a message
// that arrives mid-turn is context for the next turn, never identity for this one.
// Also the job a turn belongs to (AgentJob): what the agent runs, whoever makes it.

import type { RegisteredGroup } from '../types.js';
import type { Turn } from '../../../runner/protocol.js';

/** A person whose message addressed the assistant in this turn. */
export interface TurnRequester {
  sender: string;
  senderName: string;
  /** The chat app says the owner's own account sent it. */
  isOwner: boolean;
}

export interface TurnContext {
  chatJid: string;
  groupFolder: string;
  isMain: boolean;
  /** A scheduled task's run: nobody asked. */
  taskId: string | null;
  /** Everyone whose message addressed the assistant in this turn's catch-up, first one first. */
  requesters: TurnRequester[];
  /** The owner addressed this turn and nobody else did: only then does a turn get the owner's powers. */
  ownerStarted: boolean;
}

type Addressing = { sender: string; senderName: string; fromMe?: boolean | null };

/** The addressing messages' senders, each once, in order. */
export function requestersOf(messages: readonly Addressing[]): TurnRequester[] {
  const seen = new Map<string, TurnRequester>();
  for (const m of messages) {
    if (!seen.has(m.sender)) seen.set(m.sender, { sender: m.sender, senderName: m.senderName, isOwner: !!m.fromMe });
  }
  return [...seen.values()];
}

export function turnContext(
  where: { chatJid: string; groupFolder: string; isMain: boolean; taskId: string | null },
  requesters: readonly TurnRequester[],
): TurnContext {
  // A task has no requester, whatever its prompt says.
  const people = where.taskId ? [] : [...requesters];
  return {
    chatJid: where.chatJid,
    groupFolder: where.groupFolder,
    isMain: where.isMain,
    taskId: where.taskId,
    requesters: people,
    ownerStarted: people.length > 0 && people.every((r) => r.isOwner),
  };
}

/**
 * The one person a turn acts for ("me" in "forget me"), or why there is none:
 * a task, or several people who addressed the same catch-up. The owner's own
 * accounts (the dashboard and the terminal, say) count as one person.
 */
export function soleRequester(turn: TurnContext | undefined): TurnRequester | { refused: string } {
  if (!turn || turn.taskId || !turn.requesters.length)
    return { refused: 'This is only done when a person asks in the chat: a scheduled task cannot do it.' };
  if (turn.ownerStarted) return turn.requesters[0];
  if (turn.requesters.length === 1) return turn.requesters[0];
  const names = turn.requesters.map((r) => (r.isOwner ? 'the owner' : r.senderName || r.sender)).join(', ');
  return {
    refused:
      `Several people addressed me in this turn (${names.slice(0, 200)}), so I cannot tell whose data this is. ` +
      'Ask them to ask again, each in a message of their own.',
  };
}

/** A turn as the job hands it over: the prompt for the runner, and who addressed it (kept on the host). */
export type HostTurn = Turn & { requesters?: TurnRequester[] };

/** What an agent run is for. */
export interface AgentJob {
  sessionId: string | null;
  isScheduledTask: boolean;
  taskId: string | null;
  /** The first turn; null means there is nothing to do. */
  firstTurn(): HostTurn | null;
  /** A turn's result arrived. Throwing fails the run (and it is retried). */
  onResult(text: string, sessionId: string | null): void;
  /** A follow-up turn, if one is waiting. */
  nextTurn(): HostTurn | null;
  /** Whether to keep the sandbox alive for follow-ups after a result. */
  acceptsFollowUps: boolean;
  onUsage?(tokens: number): void;
}

/** Runs an agent job in a group's sandbox; rejects with AgentFailure when the run fails. */
export type RunAgent = (
  group: RegisteredGroup,
  job: AgentJob,
  onLive: (agent: { kill(reason: string): void }) => void,
) => Promise<void>;
