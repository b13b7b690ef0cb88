// Sends the outbox in order, one lane per chat so a waiting chat never holds up another.
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { formatOutbound } from '../conversation/router.js';
import type { Store } from '../store/index.js';
import type { OutboxItem } from '../store/outbox.js';
import type { Channel, ChannelPacing, Message } from '../types.js';

interface DeliveryDeps {
  store: Store;
  channels: () => Channel[];
  assistantName: string;
  logger: Logger;
  onStored(msg: Message & { seq: number }): void;
  retryMs?: number;
  random?: () => number;
}

// hold: the platform's retry_after, before which not even a kick tries.
type Stall = { retryMs: number; hold: boolean };
type Lane = { running: boolean; timer?: NodeJS.Timeout; holdUntil: number };

// The outbox keeps no type: the extension names it, so photos go as photos.
const MIME: Record<string, string> = {
  ...{ png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' },
  ...{ pdf: 'application/pdf', txt: 'text/plain' },
};
const mimeTypeFor = (name: string) => MIME[path.extname(name).slice(1).toLowerCase()] ?? 'application/octet-stream';

// The platform counts arrivals, and a send one span after another may arrive a little sooner.
export const WINDOW_MARGIN_MS = 50;

export function createPacer(random = Math.random) {
  const windows = new Map<string, number[]>();
  const nextAt = new Map<string, number>();
  // The windows a send to `jid` counts in: key, limit, span.
  const counted = (ch: string, p: ChannelPacing, jid: string) =>
    [
      [`${ch}\0${jid}`, p.isGroupChat?.(jid) ? p.perGroupChatPerMinute : 0, 60_000],
      [`${ch}\0/s`, p.perChannelPerSecond, 1_000],
      [`${ch}\0/min`, p.perChannelPerMinute, 60_000],
    ] as const;

  return {
    wait: (ch: string, p: ChannelPacing, jid: string, now: number) =>
      Math.max(
        (nextAt.get(`${ch}\0${jid}`) ?? 0) - now,
        ...counted(ch, p, jid).map(([key, limit, spanMs]) => {
          if (!limit) return 0;
          const span = spanMs + WINDOW_MARGIN_MS;
          const times = windows.get(key)?.filter((t) => t > now - span) ?? [];
          windows.set(key, times);
          return times.length < limit ? 0 : times[times.length - limit]! + span - now;
        }),
        0,
      ),
    started(ch: string, p: ChannelPacing, jid: string, now: number) {
      for (const [key, limit] of counted(ch, p, jid)) if (limit) windows.set(key, [...(windows.get(key) ?? []), now]);
    },
    ended(ch: string, p: ChannelPacing, jid: string, now: number) {
      nextAt.set(`${ch}\0${jid}`, now + p.perChatMs + Math.floor(random() * (p.jitterMs ?? 0)));
    },
    prune(now: number) {
      for (const [k, t] of nextAt) if (t <= now) nextAt.delete(k);
      for (const [k, ts] of windows) if (!(ts.at(-1)! > now - 60_000 - WINDOW_MARGIN_MS)) windows.delete(k);
    },
  };
}

export function createDelivery(deps: DeliveryDeps) {
  const { store, logger, assistantName } = deps;
  const lanes = new Map<string, Lane>();
  const pacer = createPacer(deps.random);
  const later: Stall = { retryMs: deps.retryMs ?? 10_000, hold: false };
  // Ends every pacing wait (one per waiting chat) on stop.
  const stopping = new AbortController();
  setMaxListeners(0, stopping.signal);
  let stopped = false;

  // Always awaited, so a send never starts inside the kick (an outbox write) that woke delivery.
  async function paced({ name, pacing: p }: Channel, jid: string) {
    let wait: number;
    while (p && (wait = pacer.wait(name, p, jid, Date.now())) > 0 && !stopped)
      await sleep(wait, null, { signal: stopping.signal }).catch(() => {});
    if (p) pacer.started(name, p, jid, Date.now());
  }

  async function deliver(item: OutboxItem): Promise<Stall | null> {
    const { id, chatJid: jid, persona } = item;
    const channel = deps.channels().find((c) => c.ownsJid(jid));
    if (!channel) logger.warn({ chat: jid }, 'no channel for outbox item; keeping it until one connects');
    if (!channel?.isConnected()) return later;
    const { name, pacing: p } = channel;
    const text = formatOutbound(item.text, { sharesUserAccount: channel.sharesUserAccount, assistantName, persona });
    const media = item.mediaPath && fs.existsSync(item.mediaPath) ? item.mediaPath : null;
    const fileName = media ? path.basename(media).slice(37) : '';
    if (text || media) {
      await paced(channel, jid);
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
        if (p) pacer.ended(name, p, jid, Date.now());
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
    const seq = store.outbox.deliverWith(id, () => store.messages.insert(msg, name));
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
      (stall) => (stall ? retry(stall) : pacer.prune(Date.now())),
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
