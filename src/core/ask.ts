// "Ask me first", as the core sees it: the kinds of action a group's settings may
// hold for the owner's yes, and the one function through which anything asks.
// Who answers (the main chat, buttons, the dashboard) is the approvals plugin's;
// without it, an action set to "ask" is refused, never silently allowed.
import type { Identity } from './conversation/turn.js';
import type { ApprovalKind, ApprovalMode, RegisteredGroup } from './types.js';

export const APPROVAL_KINDS: readonly ApprovalKind[] = [
  'network',
  'mount_write',
  'bash',
  'cross_chat',
  'groups',
  'task_budget',
  'email_send',
];
export const APPROVAL_MODES: readonly ApprovalMode[] = ['allow', 'ask', 'deny'];

/** New hosts and writes to host folders are asked about; everything allowed before stays allowed. */
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

export function modeFor(group: Pick<RegisteredGroup, 'sandbox'>, kind: ApprovalKind): ApprovalMode {
  return group.sandbox.approvals?.policy?.[kind] ?? DEFAULT_POLICY[kind];
}

export type Outcome = { approved: boolean; message: string };

/** One action, as the owner will see it and a yes will approve it. */
export interface Action {
  kind: ApprovalKind;
  /** The whole thing: command, host:port, tool and path. Exactly this is approved. */
  detail: string;
  /** Short words for "Waiting for the owner's approval to …". */
  what: string;
  reason?: string;
}

/** What the approvals plugin answers; each method decides by the group's settings and, if they say ask, the owner. */
export interface Approver {
  /** An action of a group's sandbox (a staged folder's change set, a new host). */
  check(group: RegisteredGroup, action: Action): Promise<Outcome>;
  /** An action a host tool declared: null to go ahead, or why not. */
  forTool(identity: Identity, action: Omit<Action, 'reason'>): Promise<string | null>;
  /** A built-in tool the runner is about to run (Bash, Write, ...): the host classifies it, the runner only obeys. */
  runnerTool(identity: Identity, toolName: string, input: unknown): Promise<Outcome>;
  /**
   * The sandbox tried the owner's own machine or network (`target` is host:port) and was refused
   * without asking, since no answer may allow it: the owner is told, plainly, never asked.
   */
  noteOwnNetwork?(group: RegisteredGroup, target: string): void;
}

const NO_OWNER: Outcome = { approved: false, message: 'Refused: there is no owner to ask.' };

const ALLOWED: Outcome = { approved: true, message: 'Allowed.' };

/** Without the approvals plugin: what the chat's settings allow goes ahead; anything to ask about is refused. */
export function noApprover(groupOf: (jid: string) => RegisteredGroup | undefined): Approver {
  const allows = (group: RegisteredGroup | undefined, kind: ApprovalKind) =>
    !!group && modeFor(group, kind) === 'allow';
  return {
    check: async (group, action) => (allows(group, action.kind) ? ALLOWED : NO_OWNER),
    forTool: async (identity, action) => (allows(groupOf(identity.chatJid), action.kind) ? null : NO_OWNER.message),
    // Which Bash commands need asking is the approvals plugin's to judge: without it, a chat whose settings ask
    // about Bash runs none. (Writes to host folders are read-only mounts then: the core enforces that.)
    runnerTool: async (identity, toolName) =>
      toolName !== 'Bash' || allows(groupOf(identity.chatJid), 'bash') ? ALLOWED : NO_OWNER,
  };
}
