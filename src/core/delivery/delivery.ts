// Sends the outbox in order, one lane per chat so a waiting chat never holds up another.
import type { Logger } from '../logger.js';
import { formatOutbound } from '../conversation/router.js';
import type { Store } from '../store/index.js';
import type { OutboxItem } from '../store/outbox.js';
import type { Channel, ChannelPacing, Message } from '../types.js';
import fs from 'node:fs';
import path from 'node:path';
import { mimeTypeFor } from '../tools/outbound-media.js';

export interface DeliveryDeps {
  store: Store;
  channels: () => Channel[];
  assistantName: string;
  logger: Logger;
  onStored(msg: Message & { seq: number }): void;
  retryMs?: number;
  random?: () => number;
}

type Stall = { retryMs: number; hold: boolean };

interface Lane {
  running: boolean;
  timer: NodeJS.Timeout | null;
  /** A platform's retry_after: not even a kick tries sooner. */
  holdUntil: number;
}

// The platform counts arrivals, and a send one span after another may arrive a little sooner.
export const WINDOW_MARGIN_MS = 50;

export function createPacer(random: () => number = Math.random) {
  const windows = new Map<string, number[]>();
  const nextAt = new Map<string, number>();
  // The windows a send to `jid` counts in: key, limit, span.
  const counted = (channel: string, p: ChannelPacing, jid: string) =>
    [
      [`${channel}\0${jid}`, p.isGroupChat?.(jid) ? p.perGroupChatPerMinute : 0, 60_000],
      [`${channel}\0/s`, p.perChannelPerSecond, 1_000],
      [`${channel}\0/min`, p.perChannelPerMinute, 60_000],
    ] as const;

  return {
    wait(channel: string, p: ChannelPacing, jid: string, now: number) {
      return Math.max(
        (nextAt.get(`${channel}\0${jid}`) ?? 0) - now,
        ...counted(channel, p, jid).map(([key, limit, spanMs]) => {
          if (!limit) return 0;
          const span = spanMs + WINDOW_MARGIN_MS;
          const times = windows.get(key)?.filter((t) => t > now - span) ?? [];
          windows.set(key, times);
          return times.length < limit ? 0 : times[times.length - limit]! + span - now;
        }),
        0,
      );
    },
    started(channel: string, p: ChannelPacing, jid: string, now: number) {
      for (const [key, limit] of counted(channel, p, jid))
        if (limit) windows.set(key, [...(windows.get(key) ?? []), now]);
    },
    ended(channel: string, p: ChannelPacing, jid: string, now: number) {
      nextAt.set(`${channel}\0${jid}`, now + p.perChatMs + Math.floor(random() * (p.jitterMs ?? 0)));
    },
    prune(now: number) {
      for (const [k, t] of nextAt) if (t <= now) nextAt.delete(k);
      for (const [k, ts] of windows)
        if (!ts.length || ts[ts.length - 1]! <= now - 60_000 - WINDOW_MARGIN_MS) windows.delete(k);
    },
  };
}

export function createDelivery(deps: DeliveryDeps) {
  const { store, logger, assistantName } = deps;
  const lanes = new Map<string, Lane>();
  const sleepers = new Set<() => void>();
  const pacer = createPacer(deps.random);
  const later: Stall = { retryMs: deps.retryMs ?? 10_000, hold: false };
  let stopped = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      sleepers.add(done);
    });

  async function paced({ name, pacing: p }: Channel, jid: string) {
    if (!p) return;
    let wait: number;
    while ((wait = pacer.wait(name, p, jid, Date.now())) > 0 && !stopped) await sleep(wait);
    pacer.started(name, p, jid, Date.now());
  }

  async function deliver(item: OutboxItem): Promise<Stall | null> {
    const jid = item.chatJid;
    const channel = deps.channels().find((c) => c.ownsJid(jid));
    if (!channel) logger.warn({ chat: jid }, 'no channel for outbox item; keeping it until one connects');
    if (!channel?.isConnected()) return later;
    const text = formatOutbound(item.text, {
      sharesUserAccount: channel.sharesUserAccount,
      assistantName,
      persona: item.persona,
    });
    const media = item.mediaPath && fs.existsSync(item.mediaPath) ? item.mediaPath : null;
    const fileName = media ? path.basename(media).slice(37) : '';
    if (text || media) {
      await paced(channel, jid);
      if (stopped) return later;
      // Marked before the platform is asked, so a host killed mid-send knows on restart that it may be there.
      const maybeSent = item.sendingAt !== null;
      store.outbox.markSending(item.id);
      try {
        if (media && channel.sendMedia)
          await channel.sendMedia(jid, { path: media, fileName, mimeType: mimeTypeFor(fileName) }, text);
        else
          await channel.sendMessage(
            jid,
            media ? `${text}\n[${fileName} could not be sent: this chat app takes no files here]` : text,
            {
              ...(item.buttons ? { buttons: item.buttons } : {}),
              outboxId: item.id,
              outboxKey: `${item.id}@${item.createdAt}`,
              maybeSent,
            },
          );
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        store.outbox.markFailed(item.id, message);
        const retryAfterMs = (err as { retryAfterMs?: unknown })?.retryAfterMs;
        if (typeof retryAfterMs === 'number' && retryAfterMs > 0) {
          logger.warn({ chat: jid, retryAfterMs }, 'platform asked to slow down; this chat waits, then retries');
          return { retryMs: retryAfterMs, hold: true };
        }
        logger.warn({ chat: jid, err: message }, 'send failed; will retry');
        return later;
      } finally {
        if (channel.pacing) pacer.ended(channel.name, channel.pacing, jid, Date.now());
      }
    }
    const msg: Message = {
      id: `out-${item.id}`,
      chatJid: jid,
      sender: 'assistant',
      senderName: item.persona || assistantName,
      text: media ? `${item.text}\n[file: ${fileName}]` : item.text,
      timestamp: new Date().toISOString(),
      fromMe: true,
      fromAssistant: true,
    };
    let seq: number | null = null;
    store.outbox.deliverWith(item.id, () => (seq = store.messages.insert(msg, channel.name)));
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
        if (stopped) return later;
        const stall = await deliver(item);
        if (stall) return stall;
      }
    }
  }

  function retryLater(jid: string, lane: Lane, stall: Stall) {
    lane.running = false;
    if (stopped) return;
    if (stall.hold) lane.holdUntil = Date.now() + stall.retryMs;
    lane.timer = setTimeout(() => {
      lane.timer = null;
      start(jid);
    }, stall.retryMs);
  }

  function start(jid: string) {
    if (stopped) return;
    const lane = lanes.get(jid) ?? { running: false, timer: null, holdUntil: 0 };
    lanes.set(jid, lane);
    // A running lane reads the outbox again before it finishes.
    if (lane.running) return;
    if (lane.timer) {
      if (Date.now() < lane.holdUntil) return;
      // Something changed (a reconnect, a new message): try now rather than at the retry time.
      clearTimeout(lane.timer);
      lane.timer = null;
    }
    lane.running = true;
    drain(jid, lane).then(
      (stall) => (stall ? retryLater(jid, lane, stall) : pacer.prune(Date.now())),
      (err) => {
        logger.error({ err, chat: jid }, 'delivery failed; will retry');
        retryLater(jid, lane, later);
      },
    );
  }

  return {
    kick() {
      if (stopped) return;
      for (const jid of new Set(store.outbox.pending().map((i) => i.chatJid))) start(jid);
    },
    stop() {
      stopped = true;
      for (const lane of lanes.values()) if (lane.timer) clearTimeout(lane.timer);
      for (const wake of [...sleepers]) wake();
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
