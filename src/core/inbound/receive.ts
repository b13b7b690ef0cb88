// A message from a channel: validate → sender allowlist → steps' keep → store → steps' route → trigger →
// wake the live agent or enqueue. Features plug in as InboundSteps; this file names none of them.
import { callsAssistant, type ConversationDeps } from '../conversation/conversation.js';
import type { Store } from '../store/index.js';
import type { StoredMessage } from '../store/messages.js';
import type { Message, RegisteredGroup } from '../types.js';
import type { Logger } from '../logger.js';
import type { SenderAllowlist } from './sender-allowlist.js';

export const MAX_INBOUND_TEXT = 4 * 1024 * 1024;

export type InboundDecision =
  'invalid' | 'dropped' | 'duplicate' | 'stored' | 'pairing' | 'approved' | 'answered' | 'enqueued' | 'woke';

/** isLocal: the owner's own API/CLI. */
export interface Source {
  name: string;
  isLocal: boolean;
}

export interface InboundStep {
  name: string;
  /** False: not stored at all. */
  keep?(msg: Message): boolean;
  /** A decision ends routing (the step handled it); null passes it on. */
  route?(msg: StoredMessage, group: RegisteredGroup | undefined, source: Source): InboundDecision | null;
}

export interface InboundDeps {
  store: Store;
  logger: Logger;
  conversation: ConversationDeps;
  steps?: readonly InboundStep[];
  senders: Pick<SenderAllowlist, 'keeps'>;
  emit(msg: StoredMessage): void;
  /** False if no agent is running or it is closing. */
  wake(jid: string): boolean;
  enqueue(jid: string): void;
  onRouted?(msg: Message, decision: InboundDecision): void;
}

/** The message (text cut at 4 MB), or null for one no channel should send. */
export function validate(msg: Message): Message | null {
  if (!msg || typeof msg.id !== 'string' || !msg.id || typeof msg.chatJid !== 'string' || typeof msg.text !== 'string')
    return null;
  if (msg.text.length > MAX_INBOUND_TEXT)
    return { ...msg, text: msg.text.slice(0, MAX_INBOUND_TEXT) + '\n[message truncated: over 4 MB]' };
  return msg;
}

export function admit(deps: Pick<InboundDeps, 'senders'>, msg: Message, source: Source): boolean {
  // The platform's echo of a reply we sent: delivery already recorded it.
  if (msg.fromAssistant && !source.isLocal) return false;
  return msg.fromMe || deps.senders.keeps(msg.chatJid, msg.sender);
}

/** null for a duplicate. */
export function storeMessage(store: Store, msg: Message, source: Source): StoredMessage | null {
  const seq = store.messages.insert(msg, source.name);
  return seq === null ? null : { ...msg, seq };
}

export function triggers(conversation: ConversationDeps, group: RegisteredGroup, msg: StoredMessage): boolean {
  return !msg.fromAssistant && callsAssistant(conversation, group, msg);
}

/** The live agent takes it as a follow-up, or the chat waits its turn. */
export function dispatch(deps: Pick<InboundDeps, 'wake' | 'enqueue'>, jid: string): 'woke' | 'enqueued' {
  if (deps.wake(jid)) return 'woke';
  deps.enqueue(jid);
  return 'enqueued';
}

export function route(deps: InboundDeps, msg: StoredMessage, source: Source): InboundDecision {
  deps.emit(msg);
  const group = deps.store.groups.get(msg.chatJid);
  for (const step of deps.steps ?? []) {
    const decided = step.route?.(msg, group, source);
    if (decided) return decided;
  }
  if (!group || !triggers(deps.conversation, group, msg)) return 'stored';
  return dispatch(deps, group.jid);
}

type Received = { seq: number | null; decision: InboundDecision };

export function createInbound(deps: InboundDeps) {
  const decide = (msg: Message, source: Source): Received => {
    const valid = validate(msg);
    if (!valid) {
      deps.logger.warn({ channel: source.name }, 'dropped a malformed message from the channel');
      return { seq: null, decision: 'invalid' };
    }
    const kept = admit(deps, valid, source) && (deps.steps ?? []).every((step) => step.keep?.(valid) ?? true);
    if (!kept) return { seq: null, decision: 'dropped' };
    const stored = storeMessage(deps.store, valid, source);
    if (!stored) return { seq: null, decision: 'duplicate' };
    // Stored: from here on a failure must not make the sender think it was lost.
    try {
      return { seq: stored.seq, decision: route(deps, stored, source) };
    } catch (err) {
      deps.logger.error(
        { err: (err as Error).message, chat: stored.chatJid },
        'routing a stored message failed; queueing its chat',
      );
      if (!deps.store.groups.get(stored.chatJid)) return { seq: stored.seq, decision: 'stored' };
      deps.enqueue(stored.chatJid);
      return { seq: stored.seq, decision: 'enqueued' };
    }
  };
  return {
    /** seq: null when not stored. */
    receive(msg: Message, source: Source): Received {
      const out = decide(msg, source);
      try {
        deps.onRouted?.(msg, out.decision);
      } catch (err) {
        deps.logger.warn({ err: (err as Error).message }, 'onRouted failed');
      }
      return out;
    },
  };
}

export type Inbound = ReturnType<typeof createInbound>;
