// DM pairing: a stranger who writes to the assistant in a direct chat gets a
// one-time code; the owner approves it from the main chat ("approve 4F7K2Q")
// or the CLI, which registers that chat. The codes themselves live in the
// store (store/pairing.ts).
import type { HomePaths } from '../../core/config/home.js';
import { pendingFor, type ConversationDeps } from '../../core/conversation/conversation.js';
import { registerGroup, type Result } from '../../core/groups/registration.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../core/store/index.js';
import { isDirectChat, type ChannelPlugin } from '../../core/channels/registry.js';

export { isDirectChat };
import type { StoredMessage } from '../../core/store/messages.js';
import type { Message, RegisteredGroup } from '../../core/types.js';
import type { InboundStep } from '../../core/inbound/receive.js';

export { MAX_PENDING, PAIRING_TTL_MS, type PairingRequest } from './store.js';

export const APPROVE_PATTERN = /^\s*approve\s+([A-Za-z0-9]{6})\s*[.!]?\s*$/i;

export interface PairingDeps {
  store: Store;
  paths: HomePaths;
  assistantName: string;
  logger: Logger;
  notifyOwner(text: string): void;
}

/** A folder name for an approved person: their name, made safe, made unique. */
export function folderForName(name: string, taken: (folder: string) => boolean): string {
  const base =
    name
      .normalize('NFKD')
      .replace(/[^\x00-\x7f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'contact';
  const safe = /^[a-z0-9]/.test(base) && base !== 'global' && base !== 'main' ? base : `dm-${base}`.slice(0, 40);
  let folder = safe;
  for (let i = 2; taken(folder); i++) folder = `${safe}-${i}`;
  return folder;
}

/** A stranger wrote in a direct chat: give them a code (once) and tell the owner. */
export function offerPairing(deps: PairingDeps, msg: Message, channelName: string): void {
  const req = deps.store.pairing.request(channelName, msg.chatJid, msg.sender, msg.senderName);
  if (!req) {
    deps.logger.warn({ chat: msg.chatJid }, 'pairing: too many codes waiting; ignoring a new stranger');
    return;
  }
  if (!req.isNew) return;
  deps.store.outbox.enqueue(
    msg.chatJid,
    `Hi! I'm ${deps.assistantName}, a personal assistant. To talk with me, ask my owner to approve the code ${req.code} (valid for one hour).`,
    { kind: 'system' },
  );
  deps.notifyOwner(
    `${msg.senderName || msg.sender} (${msg.chatJid}, ${channelName}) wants to talk to you. Reply "approve ${req.code}" to let them; the code expires in an hour.`,
  );
}

/** Approves a waiting code (CLI, API, main chat): registers the stranger's chat and welcomes them. */
export function approvePairing(
  deps: Omit<PairingDeps, 'notifyOwner' | 'logger'>,
  code: string,
): Result<RegisteredGroup> {
  const req = deps.store.pairing.approve(code);
  if (!req) return { ok: false, error: `there is no waiting code ${code} (codes expire after an hour).` };
  const { store } = deps;
  const folder = folderForName(req.senderName || req.sender, (f) => !!store.groups.byFolder(f) || f === 'main');
  const res = registerGroup(deps, {
    jid: req.chatJid,
    name: req.senderName || req.sender,
    folder,
    requiresTrigger: false,
  });
  if (res.ok)
    store.outbox.enqueue(req.chatJid, `You're approved — I'm ${deps.assistantName}. How can I help?`, {
      kind: 'system',
    });
  return res;
}

/** Is this "approve CODE" from the owner in a main chat (the only place it is honoured)? */
export function isApproval(group: RegisteredGroup, msg: Message): boolean {
  return group.isMain && !msg.fromAssistant && APPROVE_PATTERN.test(msg.text);
}

/** "approve 4F7K2Q" in a main chat: approve it and answer there, in place of the agent. */
export function approveInChat(
  deps: Omit<PairingDeps, 'notifyOwner' | 'logger'> & { conversation: ConversationDeps },
  group: RegisteredGroup,
  msg: StoredMessage,
): void {
  const code = APPROVE_PATTERN.exec(msg.text)![1].toUpperCase();
  const res = approvePairing(deps, code);
  const reply = res.ok
    ? `Approved: ${res.value.name} can now talk to me (folder ${res.value.folder}).`
    : `Not approved: ${res.error}`;
  // If nothing else waits, the cursor moves with the reply.
  if (pendingFor(deps.conversation, group, deps.store.outbox.cursor(msg.chatJid)).messages.length <= 1) {
    deps.store.outbox.commitTurn({ chatJid: msg.chatJid, upToSeq: msg.seq, reply });
  } else deps.store.outbox.enqueue(msg.chatJid, reply, { kind: 'system' });
}

/** Pairing as an inbound step: a code for a stranger in a direct chat, or "approve CODE" in a main chat. */
export function pairingStep(
  deps: PairingDeps & { conversation: ConversationDeps; plugins: readonly ChannelPlugin[] },
): InboundStep {
  return {
    name: 'pairing',
    route(msg, group, source) {
      if (!group) {
        if (source.isLocal || msg.fromMe || !isDirectChat(msg.chatJid, deps.plugins)) return 'stored';
        offerPairing(deps, msg, source.name);
        return 'pairing';
      }
      if (!isApproval(group, msg)) return null;
      approveInChat(deps, group, msg);
      return 'approved';
    },
  };
}
