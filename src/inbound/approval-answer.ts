// The owner answers an approval from the main chat: "yes 4F7K", "no 4F7K" or
// "always 4F7K". The answer is consumed here, before routing, so it never
// reaches an agent; the host replies in its place.
import { ANSWER_PATTERN, isOwnerAnswer, type Approvals, type Verb } from '../approvals/approvals.js';
import { pendingFor, type ConversationDeps } from '../conversation/conversation.js';
import type { Store } from '../store/index.js';
import type { StoredMessage } from '../store/messages.js';
import type { RegisteredGroup } from '../types.js';

export { isOwnerAnswer };

export function answerInChat(
  deps: { store: Store; conversation: ConversationDeps; approvals: Pick<Approvals, 'answer'> },
  group: RegisteredGroup,
  msg: StoredMessage,
): void {
  const [, verb, code] = ANSWER_PATTERN.exec(msg.text)!;
  const res = deps.approvals.answer(code, verb.toLowerCase() as Verb, `owner in ${msg.chatJid} (${msg.sender})`);
  const reply = res.ok ? res.text : `Not done: ${res.text}`;
  // If nothing else waits, the cursor moves with the reply, so the agent never sees the answer as a message.
  if (pendingFor(deps.conversation, group, deps.store.outbox.cursor(msg.chatJid)).messages.length <= 1) {
    deps.store.outbox.commitTurn({ chatJid: msg.chatJid, upToSeq: msg.seq, reply });
  } else deps.store.outbox.enqueue(msg.chatJid, reply, { kind: 'system' });
}
