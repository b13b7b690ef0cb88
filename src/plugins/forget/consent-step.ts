// Consent as an inbound step: a sender who opted out in a chat is kept only when
// they call the assistant, and then only until that turn is answered (the host
// deletes the row once the turn is committed); anything else they say is not stored.
import { callsAssistant, type ConversationDeps } from '../../core/conversation/conversation.js';
import type { Store } from '../../core/store/index.js';
import type { InboundStep } from '../../core/inbound/receive.js';

export function consentStep(deps: { store: Store; conversation: ConversationDeps }): InboundStep {
  return {
    name: 'consent',
    keep(msg) {
      if (msg.fromMe || msg.fromAssistant || !deps.store.forget.isOptedOut(msg.chatJid, msg.sender)) return true;
      const group = deps.store.groups.get(msg.chatJid);
      return !!group && callsAssistant(deps.conversation, group, msg);
    },
  };
}
