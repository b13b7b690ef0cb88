// The job that answers a chat: a result commits the reply and moves the cursor in one transaction.
import type { AgentJob, HostTurn, TurnRequester } from './turn.js';
import { formatCatchUp, isTriggered, stripInternal } from './router.js';
import type { Store } from '../store/index.js';
import type { StoredMessage } from '../store/messages.js';
import type { Attachment, Message, RegisteredGroup } from '../types.js';
import type { Turn } from '../../../runner/protocol.js';

export interface ConversationDeps {
  store: Store;
  timezone: string;
  assistantName: string;
  canTrigger(group: RegisteredGroup, msg: Message): boolean;
}

export function callsAssistant(deps: ConversationDeps, group: RegisteredGroup, msg: Message): boolean {
  return isTriggered(group, msg) && deps.canTrigger(group, msg);
}

export function pendingFor(
  deps: ConversationDeps,
  group: RegisteredGroup,
  afterSeq = deps.store.outbox.cursor(group.jid),
) {
  const messages = deps.store.messages.after(group.jid, afterSeq).filter((m) => !m.fromAssistant);
  return { messages, triggered: messages.some((m) => callsAssistant(deps, group, m)) };
}

function toTurn(deps: ConversationDeps, messages: StoredMessage[]): Turn {
  const all = messages.flatMap((m) => m.attachments ?? []);
  const inside = (kind: Attachment['kind'], mimeType: (file: string) => string) => {
    const found = all
      .filter((a) => a.kind === kind)
      .map((a) => ({ path: `/workspace/group/${a.path}`, mimeType: a.mimeType ?? mimeType(a.path) }));
    return found.length ? found : undefined;
  };
  const imageType = (file: string) => {
    const ext = file.split('.').pop()?.toLowerCase() ?? '';
    return ['png', 'gif', 'webp'].includes(ext) ? `image/${ext}` : 'image/jpeg';
  };
  return {
    prompt: formatCatchUp(messages, deps.timezone, { assistantName: deps.assistantName }),
    images: inside('image', imageType),
    files: inside('document', () => 'application/octet-stream'),
  };
}

export function conversationJob(deps: ConversationDeps, group: RegisteredGroup, sessionId: string | null): AgentJob {
  let delivered = deps.store.outbox.cursor(group.jid);
  // Batches handed to the agent and not yet answered, oldest first.
  const batches: number[] = [];

  const take = (): HostTurn | null => {
    const { messages, triggered } = pendingFor(deps, group, delivered);
    if (!triggered) return null;
    delivered = messages[messages.length - 1].seq;
    batches.push(delivered);
    // Who asked: the senders of the messages that addressed the assistant, not whoever else wrote in between.
    const asked = new Map<string, TurnRequester>();
    for (const m of messages)
      if (!asked.has(m.sender) && callsAssistant(deps, group, m))
        asked.set(m.sender, { sender: m.sender, senderName: m.senderName, isOwner: !!m.fromMe });
    return { ...toTurn(deps, messages), requesters: [...asked.values()] };
  };

  return {
    sessionId,
    isScheduledTask: false,
    taskId: null,
    acceptsFollowUps: true,
    firstTurn: take,
    nextTurn: take,
    onResult(text, sid) {
      const upTo = batches.shift();
      if (upTo === undefined) return;
      deps.store.outbox.commitTurn({
        chatJid: group.jid,
        upToSeq: upTo,
        reply: stripInternal(text) || undefined,
        groupFolder: group.folder,
        sessionId: sid ?? undefined,
      });
    },
  };
}
