// Pacing: a burst to one chat, one group or one account is spaced by what the chat app declares (Channel.pacing),
// so the account is not limited or banned; a quiet chat's message still goes out at once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pace } from '../../core/delivery/delivery.js';
import type { Plugin } from '../../core/plugin.js';
import type { ChannelPacing } from '../../core/types.js';

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

/** Waits until `channel` may send to `jid` again; the answer marks the send as over. */
export function createPace(random = Math.random): Pace {
  const pacer = createPacer(random);
  return async ({ name, pacing: p }, jid, signal) => {
    if (!p) return;
    let wait: number;
    while ((wait = pacer.wait(name, p, jid, Date.now())) > 0 && !signal.aborted)
      await sleep(wait, null, { signal }).catch(() => {});
    pacer.started(name, p, jid, Date.now());
    return () => {
      pacer.ended(name, p, jid, Date.now());
      pacer.prune(Date.now());
    };
  };
}

export const pacing: Plugin = {
  name: 'pacing',
  setup: () => ({ pace: createPace() }),
};
