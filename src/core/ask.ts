// "Ask me first": the approvals plugin answers; without it, an action set to "ask" is refused, never allowed.
import type { Identity } from './conversation/turn.js';
import type { ApprovalKind, ApprovalMode, RegisteredGroup } from './types.js';

/** `words` completes "the agent … wants to …". */
export interface KindInfo {
  mode: ApprovalMode;
  words: string;
}

// Writes to host folders are asked about; Bash only where the owner listed commands.
const KINDS: Partial<Record<ApprovalKind, KindInfo>> = {
  mount_write: { mode: 'ask', words: 'write to a host folder mounted into its sandbox' },
  bash: { mode: 'allow', words: 'run a Bash command you asked to be asked about' },
};
/** The core's kinds, then each plugin's as it is declared. */
export const APPROVAL_KINDS = Object.keys(KINDS) as ApprovalKind[];
export const APPROVAL_MODES: readonly ApprovalMode[] = ['allow', 'ask', 'deny'];

export function declareApprovalKinds(kinds: Partial<Record<ApprovalKind, KindInfo>>): void {
  for (const [kind, info] of Object.entries(kinds) as [ApprovalKind, KindInfo][]) {
    if (!KINDS[kind]) APPROVAL_KINDS.push(kind);
    KINDS[kind] = info;
  }
}

/** Unknown actions never go ahead unasked. */
export const defaultMode = (kind: ApprovalKind): ApprovalMode => KINDS[kind]?.mode ?? 'ask';
export const kindWords = (kind: ApprovalKind): string => KINDS[kind]?.words ?? `do something of the kind "${kind}"`;

export function modeFor(group: Pick<RegisteredGroup, 'sandbox'>, kind: ApprovalKind): ApprovalMode {
  return group.sandbox.approvals?.policy?.[kind] ?? defaultMode(kind);
}

export type Outcome = { approved: boolean; message: string };

export interface Action {
  kind: ApprovalKind;
  /** Exactly what a yes approves: command, host:port, tool and path. */
  detail: string;
  /** Completes "Waiting for the owner's approval to …". */
  what: string;
  reason?: string;
}

export interface Approver {
  check(group: RegisteredGroup, action: Action): Promise<Outcome>;
  /** Null to go ahead, or why not. */
  forTool(identity: Identity, action: Omit<Action, 'reason'>): Promise<string | null>;
  /** A built-in tool (Bash, Write, ...): the host classifies it, the runner obeys. */
  runnerTool(identity: Identity, toolName: string, input: unknown): Promise<Outcome>;
  /** The sandbox tried the owner's own machine (`target` is host:port): refused and told, never asked. */
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
