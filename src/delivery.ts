// Delivery: sends what the outbox holds through the right channel, in order per
// chat, the moment it is written (and again when a channel reconnects). A sent
// reply is recorded in the chat's history in the same transaction that marks
// it delivered.
import type { Logger } from './logger.js';
import { formatOutbound } from './router.js';
import type { Store } from './store/index.js';
import type { OutboxItem } from './store/outbox.js';
import type { Channel, Message } from './types.js';

export interface DeliveryDeps {
  store: Store;
  channels: () => Channel[];
  assistantName: string;
  logger: Logger;
  onStored(msg: Message & { seq: number }): void;
  retryMs?: number;
}

export function createDelivery(deps: DeliveryDeps) {
  let running = false;
  let again = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let stopped = false;

  async function deliver(item: OutboxItem): Promise<boolean> {
    const channel = deps.channels().find((c) => c.ownsJid(item.chatJid));
    if (!channel) {
      deps.logger.warn({ chat: item.chatJid }, 'no channel for outbox item; keeping it until one connects');
      return false;
    }
    if (!channel.isConnected()) return false;
    const text = formatOutbound(item.text, { sharesUserAccount: channel.sharesUserAccount, assistantName: deps.assistantName, persona: item.persona });
    if (text) {
      try {
        await channel.sendMessage(item.chatJid, text);
      } catch (err) {
        deps.store.outbox.markFailed(item.id, (err as Error).message ?? String(err));
        deps.logger.warn({ chat: item.chatJid, err: (err as Error).message }, 'send failed; will retry');
        return false;
      }
    }
    const msg: Message = {
      id: `out-${item.id}`, chatJid: item.chatJid, sender: 'assistant', senderName: item.persona || deps.assistantName,
      text: item.text, timestamp: new Date().toISOString(), fromMe: true, fromAssistant: true,
    };
    let seq: number | null = null;
    deps.store.outbox.deliverWith(item.id, () => { seq = deps.store.messages.insert(msg, channel.name); });
    if (seq !== null) deps.onStored({ ...msg, seq });
    return true;
  }

  async function pass(): Promise<void> {
    const blocked = new Set<string>();
    let failed = false;
    for (const item of deps.store.outbox.pending()) {
      if (stopped) return;
      if (blocked.has(item.chatJid)) continue;
      // Later items of a chat wait for earlier ones, so order is kept.
      if (!(await deliver(item))) { blocked.add(item.chatJid); failed = true; }
    }
    if (failed && !retryTimer && !stopped) {
      retryTimer = setTimeout(() => { retryTimer = null; kick(); }, deps.retryMs ?? 10_000);
    }
  }

  function kick(): void {
    if (stopped) return;
    if (running) { again = true; return; }
    running = true;
    (async () => {
      do { again = false; await pass(); } while (again && !stopped);
    })().catch((err) => deps.logger.error({ err }, 'delivery pass failed')).finally(() => { running = false; });
  }

  return {
    kick,
    stop() { stopped = true; if (retryTimer) clearTimeout(retryTimer); },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
