// Who started a turn, fixed by the host when the prompt is built; never from the model or a later message.
import type { RegisteredGroup } from '../types.js';
import type { Turn } from '../../../runner/protocol.js';

export interface TurnRequester {
  sender: string;
  senderName: string;
  isOwner: boolean;
}

interface Where {
  chatJid: string;
  groupFolder: string;
  isMain: boolean;
  taskId: string | null;
}

export interface TurnContext extends Where {
  requesters: TurnRequester[];
  /** The owner addressed this turn and nobody else did: only then does a turn get the owner's powers. */
  ownerStarted: boolean;
}

export function turnContext(where: Where, people: readonly TurnRequester[]): TurnContext {
  const { chatJid, groupFolder, isMain, taskId } = where;
  // A task has no requester, whatever its prompt says.
  const requesters = taskId ? [] : [...people];
  const ownerStarted = requesters.length > 0 && requesters.every((r) => r.isOwner);
  return { chatJid, groupFolder, isMain, taskId, requesters, ownerStarted };
}

export type HostTurn = Turn & { requesters?: TurnRequester[] };

export interface AgentJob {
  sessionId: string | null;
  isScheduledTask: boolean;
  taskId: string | null;
  firstTurn(): HostTurn | null;
  /** Throwing fails the run (and it is retried). */
  onResult(text: string, sessionId: string | null): void;
  nextTurn(): HostTurn | null;
  acceptsFollowUps: boolean;
  warm?: boolean; // may start with no first turn
  onUsage?(tokens: number): void;
}

export type RunAgent = (
  group: RegisteredGroup,
  job: AgentJob,
  onLive?: (agent: { kill(reason: string): void }) => void,
) => Promise<void>;

/** Who a sandbox is: fixed by the gateway endpoint it calls, never by what it sends. */
export interface Identity extends Where {
  /** Set by the host when a turn begins; none between turns. */
  turn?: TurnContext;
}
