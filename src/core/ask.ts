// "Ask me first": the approvals plugin answers; without it, an action set to "ask" is refused, never allowed.
import type { Identity } from './conversation/turn.js';
import type { ApprovalKind, ApprovalMode, RegisteredGroup } from './types.js';

export const DEFAULT_POLICY: Record<ApprovalKind, ApprovalMode> = {
  network: 'ask',
  mount_write: 'ask',
  bash: 'allow',
  cross_chat: 'allow',
  groups: 'allow',
  task_budget: 'allow',
  // Mail leaves in the owner's name and cannot be taken back.
  email_send: 'ask',
};
export const APPROVAL_KINDS = Object.keys(DEFAULT_POLICY) as readonly ApprovalKind[];
export const APPROVAL_MODES: readonly ApprovalMode[] = ['allow', 'ask', 'deny'];

export function modeFor(group: Pick<RegisteredGroup, 'sandbox'>, kind: ApprovalKind): ApprovalMode {
  return group.sandbox.approvals?.policy?.[kind] ?? DEFAULT_POLICY[kind];
}

export type Outcome = { approved: boolean; message: string };

/** One action, as the owner will see it and a yes will approve it. */
export interface Action {
  kind: ApprovalKind;
  /** Exactly this is approved: command, host:port, tool and path. */
  detail: string;
  /** Completes "Waiting for the owner's approval to …". */
  what: string;
  reason?: string;
}

export interface Approver {
  check(group: RegisteredGroup, action: Action): Promise<Outcome>;
  /** Null to go ahead, or why not. */
  forTool(identity: Identity, action: Omit<Action, 'reason'>): Promise<string | null>;
  /** A built-in tool (Bash, Write, ...): the host classifies it, the runner only obeys. */
  runnerTool(identity: Identity, toolName: string, input: unknown): Promise<Outcome>;
  /** The sandbox tried the owner's own machine (`target` is host:port): refused, the owner told, never asked. */
  noteOwnNetwork?(group: RegisteredGroup, target: string): void;
}

const NO_OWNER: Outcome = { approved: false, message: 'Refused: there is no owner to ask.' };
const ALLOWED: Outcome = { approved: true, message: 'Allowed.' };

export function noApprover(groupOf: (jid: string) => RegisteredGroup | undefined): Approver {
  const allows = (group: RegisteredGroup | undefined, kind: ApprovalKind) =>
    !!group && modeFor(group, kind) === 'allow';
  return {
    check: async (group, action) => (allows(group, action.kind) ? ALLOWED : NO_OWNER),
    forTool: async (identity, action) => (allows(groupOf(identity.chatJid), action.kind) ? null : NO_OWNER.message),
    // Which Bash commands need asking is the approvals plugin's to judge: without it, none runs where bash asks.
    runnerTool: async (identity, toolName) =>
      toolName !== 'Bash' || allows(groupOf(identity.chatJid), 'bash') ? ALLOWED : NO_OWNER,
  };
}
