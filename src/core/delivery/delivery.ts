// Sends the outbox in order, one lane per chat so a waiting chat never holds up another.
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { formatOutbound } from '../conversation/router.js';
import type { Store } from '../store/index.js';
import type { OutboxItem } from '../store/outbox.js';
import type { Channel, Message } from '../types.js';

interface DeliveryDeps {
  store: Store;
  channels: () => Channel[];
  assistantName: string;
  logger: Logger;
  onStored(msg: Message & { seq: number }): void;
  retryMs?: number;
  /** Waits out the chat app's pacing (the pacing plugin); answers what to call once the send is over. */
  pace?: Pace;
}

export type Pace = (channel: Channel, jid: string, signal: AbortSignal) => Promise<(() => void) | void>;

// hold: the platform's retry_after, before which not even a kick tries.
type Stall = { retryMs: number; hold: boolean };
type Lane = { running: boolean; timer?: NodeJS.Timeout; holdUntil: number };

// The outbox keeps no type: the extension names it, so photos go as photos.
const MIME: Record<string, string> = {
  ...{ png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' },
  ...{ pdf: 'application/pdf', txt: 'text/plain' },
};
const mimeTypeFor = (name: string) => MIME[path.extname(name).slice(1).toLowerCase()] ?? 'application/octet-stream';

export function createDelivery(deps: DeliveryDeps) {
  const { store, logger, assistantName } = deps;
  const lanes = new Map<string, Lane>();
  const later: Stall = { retryMs: deps.retryMs ?? 10_000, hold: false };
  // Ends every pacing wait (one per waiting chat) on stop.
  const stopping = new AbortController();
  setMaxListeners(0, stopping.signal);
  let stopped = false;

  async function deliver(item: OutboxItem): Promise<Stall | null> {
    const { id, chatJid: jid, persona } = item;
    const channel = deps.channels().find((c) => c.ownsJid(jid));
    if (!channel) logger.warn({ chat: jid }, 'no channel for outbox item; keeping it until one connects');
    if (!channel?.isConnected()) return later;
    const text = formatOutbound(item.text, { sharesUserAccount: channel.sharesUserAccount, assistantName, persona });
    const media = item.mediaPath && fs.existsSync(item.mediaPath) ? item.mediaPath : null;
    const fileName = media ? path.basename(media).slice(37) : '';
    if (text || media) {
      // Always awaited, so a send never starts inside the kick (an outbox write) that woke delivery.
      const sent = await deps.pace?.(channel, jid, stopping.signal);
      if (stopped) return later;
      // Marked first, so a host killed mid-send knows on restart that the platform may have it.
      store.outbox.markSending(id);
      try {
        if (media && channel.sendMedia)
          await channel.sendMedia(jid, { path: media, fileName, mimeType: mimeTypeFor(fileName) }, text);
        else
          await channel.sendMessage(
            jid,
            media ? `${text}\n[${fileName} could not be sent: this chat app takes no files here]` : text,
            {
              buttons: item.buttons ?? undefined,
              outboxId: id,
              outboxKey: `${id}@${item.createdAt}`,
              maybeSent: item.sendingAt !== null,
            },
          );
      } catch (err: any) {
        const message = err?.message ?? String(err);
        store.outbox.markFailed(id, message);
        const ms = err?.retryAfterMs;
        if (typeof ms == 'number' && ms > 0) {
          logger.warn({ chat: jid, retryAfterMs: ms }, 'platform asked to slow down; this chat waits, then retries');
          return { retryMs: ms, hold: true };
        }
        logger.warn({ chat: jid, err: message }, 'send failed; will retry');
        return later;
      } finally {
        sent?.();
      }
    }
    const msg: Message = {
      id: `out-${id}`,
      chatJid: jid,
      sender: 'assistant',
      senderName: persona || assistantName,
      text: media ? `${item.text}\n[file: ${fileName}]` : item.text,
      timestamp: new Date().toISOString(),
      fromMe: true,
      fromAssistant: true,
    };
    const seq = store.outbox.deliverWith(id, () => store.messages.insert(msg, channel.name));
    if (seq !== null) deps.onStored({ ...msg, seq });
    if (media) fs.rmSync(media, { force: true });
    return null;
  }

  async function drain(jid: string, lane: Lane): Promise<Stall | null> {
    for (;;) {
      const items = stopped ? [] : store.outbox.pending().filter((i) => i.chatJid === jid);
      if (!items.length) {
        // In the same step as the empty read, so a kick after it starts a fresh lane.
        lane.running = false;
        if (lanes.get(jid) === lane) lanes.delete(jid);
        return null;
      }
      // A later item never overtakes an earlier one that has not gone out.
      for (const item of items) {
        const stall = stopped ? later : await deliver(item);
        if (stall) return stall;
      }
    }
  }

  function start(jid: string) {
    if (stopped) return;
    const lane: Lane = lanes.get(jid) ?? { running: false, holdUntil: 0 };
    lanes.set(jid, lane);
    // A running lane reads the outbox again before it finishes.
    if (lane.running || (lane.timer && Date.now() < lane.holdUntil)) return;
    // Something changed (a reconnect, a new message): try now, not at the retry time.
    clearTimeout(lane.timer);
    lane.running = true;
    const retry = (stall: Stall) => {
      lane.running = false;
      if (stopped) return;
      if (stall.hold) lane.holdUntil = Date.now() + stall.retryMs;
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        start(jid);
      }, stall.retryMs);
    };
    drain(jid, lane).then(
      (stall) => stall && retry(stall),
      (err) => {
        logger.error({ err, chat: jid }, 'delivery failed; will retry');
        retry(later);
      },
    );
  }

  return {
    kick() {
      if (!stopped) for (const jid of new Set(store.outbox.pending().map((i) => i.chatJid))) start(jid);
    },
    stop() {
      stopped = true;
      for (const lane of lanes.values()) clearTimeout(lane.timer);
      stopping.abort();
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
