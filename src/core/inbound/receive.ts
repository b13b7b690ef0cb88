// A message from a channel: validate → the steps' keep → store → the steps' route → trigger → wake or enqueue.
import { callsAssistant, type ConversationDeps } from '../conversation/conversation.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import type { StoredMessage } from '../store/messages.js';
import type { Message, RegisteredGroup } from '../types.js';

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
  steps: readonly InboundStep[];
  emit(msg: StoredMessage): void;
  /** False if no agent is running or it is closing. */
  wake(jid: string): boolean;
  enqueue(jid: string): void;
  onRouted?(msg: Message, decision: InboundDecision): void;
}

type Received = { seq: number | null; decision: InboundDecision };

export function createInbound(deps: InboundDeps) {
  const { store, logger, steps } = deps;
  const route = (msg: StoredMessage, source: Source): InboundDecision => {
    deps.emit(msg);
    const group = store.groups.get(msg.chatJid);
    for (const step of steps) {
      const decided = step.route?.(msg, group, source);
      if (decided) return decided;
    }
    if (!group || msg.fromAssistant || !callsAssistant(deps.conversation, group, msg)) return 'stored';
    // The live agent takes it as a follow-up, or the chat waits its turn.
    if (deps.wake(group.jid)) return 'woke';
    deps.enqueue(group.jid);
    return 'enqueued';
  };
  const decide = (msg: Message, source: Source): Received => {
    if (!msg?.id || typeof msg.id !== 'string' || typeof msg.chatJid !== 'string' || typeof msg.text !== 'string') {
      logger.warn({ channel: source.name }, 'dropped a malformed message from the channel');
      return { seq: null, decision: 'invalid' };
    }
    if (msg.text.length > MAX_INBOUND_TEXT)
      msg = { ...msg, text: msg.text.slice(0, MAX_INBOUND_TEXT) + '\n[message truncated: over 4 MB]' };
    // The platform's echo of a reply we sent: delivery already recorded it.
    const echo = msg.fromAssistant && !source.isLocal;
    if (echo || !steps.every((step) => step.keep?.(msg) ?? true)) return { seq: null, decision: 'dropped' };
    const seq = store.messages.insert(msg, source.name);
    if (seq === null) return { seq, decision: 'duplicate' };
    // Stored: from here on a failure must not make the sender think it was lost.
    try {
      return { seq, decision: route({ ...msg, seq }, source) };
    } catch (err) {
      const chat = msg.chatJid;
      logger.error({ err: (err as Error).message, chat }, 'routing a stored message failed; queueing its chat');
      if (!store.groups.get(chat)) return { seq, decision: 'stored' };
      deps.enqueue(chat);
      return { seq, decision: 'enqueued' };
    }
  };
  return {
    /** seq: null when not stored. */
    receive(msg: Message, source: Source): Received {
      const out = decide(msg, source);
      try {
        deps.onRouted?.(msg, out.decision);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'onRouted failed');
      }
      return out;
    },
  };
}
