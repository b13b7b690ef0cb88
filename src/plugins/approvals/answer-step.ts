// The owner answers an approval from the main chat: "yes 4F7K", "no 4F7K" or
// "always 4F7K" (or a tap on the request's buttons). The answer is consumed
// here, before routing, so it never reaches an agent; the host replies in its place.
import { ANSWER_PATTERN, isOwnerAnswer, parseButtonAction, type Approvals, type Verb } from './approvals.js';
import { pendingFor, type ConversationDeps } from '../../core/conversation/conversation.js';
import type { Store } from '../../core/store/index.js';
import type { StoredMessage } from '../../core/store/messages.js';
import type { ButtonAnswer, ButtonPress, RegisteredGroup } from '../../core/types.js';
import type { InboundStep } from '../../core/inbound/receive.js';

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

/**
 * A tap on a request's button. Only the owner (by the channel's own owner rule)
 * in a main chat decides, through the same single-outcome path as a typed answer.
 */
export function answerButtonPress(
  deps: { store: Store; approvals: Pick<Approvals, 'answerButton'> },
  press: ButtonPress,
): ButtonAnswer {
  const parsed = parseButtonAction(press.action);
  if (!parsed) return { notice: 'This button no longer does anything.' };
  if (!press.fromOwner || !deps.store.groups.get(press.chatJid)?.isMain)
    return { notice: 'Only the owner can answer this.' };
  const res = deps.approvals.answerButton(
    parsed.id,
    parsed.verb,
    `owner in ${press.chatJid} (${press.sender}, button)`,
  );
  return res.ok ? { notice: res.text, done: res.text } : { notice: res.text };
}

/** The owner's "yes/no/always CODE" in a main chat, as an inbound step: answered here, never seen by an agent. */
export function approvalAnswerStep(deps: {
  store: Store;
  conversation: ConversationDeps;
  approvals: Pick<Approvals, 'answer'>;
}): InboundStep {
  return {
    name: 'approval answers',
    route(msg, group) {
      if (!group || !isOwnerAnswer(group, msg)) return null;
      answerInChat(deps, group, msg);
      return 'answered';
    },
  };
}
