// Who started a turn, fixed by the host when the prompt is built; never from the model or a later message.
import type { RegisteredGroup } from '../types.js';
import type { Turn } from '../../../runner/protocol.js';

export interface TurnRequester {
  sender: string;
  senderName: string;
  isOwner: boolean;
}

export interface TurnContext {
  chatJid: string;
  groupFolder: string;
  isMain: boolean;
  taskId: string | null;
  requesters: TurnRequester[];
  /** The owner addressed this turn and nobody else did: only then does a turn get the owner's powers. */
  ownerStarted: boolean;
}

type Addressing = { sender: string; senderName: string; fromMe?: boolean | null };

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

/** Who "me" is in "forget me"; the owner's own accounts (dashboard, terminal) count as one person. */
export function soleRequester(turn: TurnContext | undefined): TurnRequester | { refused: string } {
  if (!turn || turn.taskId || !turn.requesters.length)
    return { refused: 'This is only done when a person asks in the chat: a scheduled task cannot do it.' };
  if (turn.ownerStarted || turn.requesters.length === 1) return turn.requesters[0];
  const names = turn.requesters.map((r) => (r.isOwner ? 'the owner' : r.senderName || r.sender)).join(', ');
  return {
    refused:
      `Several people addressed me in this turn (${names.slice(0, 200)}), so I cannot tell whose data this is. ` +
      'Ask them to ask again, each in a message of their own.',
  };
}

export type HostTurn = Turn & { requesters?: TurnRequester[] };

export interface AgentJob {
  sessionId: string | null;
  isScheduledTask: boolean;
  taskId: string | null;
  firstTurn(): HostTurn | null;
  /** A turn's result arrived. Throwing fails the run (and it is retried). */
  onResult(text: string, sessionId: string | null): void;
  nextTurn(): HostTurn | null;
  acceptsFollowUps: boolean;
  onUsage?(tokens: number): void;
}

export type RunAgent = (
  group: RegisteredGroup,
  job: AgentJob,
  onLive: (agent: { kill(reason: string): void }) => void,
) => Promise<void>;

/** Who a sandbox is: fixed by the gateway endpoint it calls, never by what it sends. */
export interface Identity {
  groupFolder: string;
  chatJid: string;
  isMain: boolean;
  taskId: string | null;
  /** Who started the turn in progress, set by the host when the turn begins; none between turns. */
  turn?: TurnContext;
}
