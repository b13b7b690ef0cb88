// Pure schedule arithmetic: is a schedule valid, when does it fire next, and
// how a fire time reads to the user. Time comes in as an argument, so every
// rule here is tested with a fixed clock.
import { Cron } from 'croner';
import type { ScheduleType } from './store.js';

export type { ScheduleType };

export interface Schedule {
  type: ScheduleType;
  value: string;
}

/** Shorter intervals would keep an agent running nearly all the time. */
export const MIN_INTERVAL_MS = 60_000;
const MAX_INTERVAL_MS = 366 * 24 * 3600_000;

export type Checked = { ok: true; schedule: Schedule } | { ok: false; error: string };

function cronFor(value: string, timezone: string): Cron {
  // No callback: croner only computes, it never starts a timer of its own.
  return new Cron(value, { timezone, mode: '5-part' });
}

/** Checks a schedule as the user gave it. `now` matters for `once`: a past time is refused. */
export function validateSchedule(type: unknown, value: unknown, opts: { now: number; timezone: string }): Checked {
  if (type !== 'cron' && type !== 'interval' && type !== 'once') {
    return { ok: false, error: `schedule_type must be cron, interval or once; got "${String(type).slice(0, 40)}".` };
  }
  if (typeof value !== 'string' && typeof value !== 'number')
    return { ok: false, error: 'schedule_value is required.' };
  const v = String(value).trim();
  if (type === 'cron') {
    const fields = v.split(/\s+/).length;
    if (!v.startsWith('@') && fields !== 5) {
      return {
        ok: false,
        error: `A cron schedule has 5 fields (minute hour day-of-month month day-of-week), e.g. "0 9 * * 1-5"; "${v.slice(0, 80)}" has ${fields}.`,
      };
    }
    let cron: Cron;
    try {
      cron = cronFor(v, opts.timezone);
    } catch (err) {
      return {
        ok: false,
        error: `Invalid cron "${v.slice(0, 80)}": ${(err as Error).message.replace(/^CronPattern: /, '')}.`,
      };
    }
    if (!cron.nextRun(new Date(opts.now)))
      return { ok: false, error: `The cron "${v}" never fires (no such date); check the day and month fields.` };
    return { ok: true, schedule: { type, value: v } };
  }
  if (type === 'interval') {
    if (!/^\d+$/.test(v))
      return {
        ok: false,
        error: `An interval is a whole number of milliseconds, e.g. "3600000" for every hour; got "${v.slice(0, 40)}".`,
      };
    const ms = Number(v);
    if (ms < MIN_INTERVAL_MS)
      return { ok: false, error: `An interval must be at least ${MIN_INTERVAL_MS} ms (one minute); got ${ms}.` };
    if (ms > MAX_INTERVAL_MS)
      return {
        ok: false,
        error: `An interval must be at most a year (${MAX_INTERVAL_MS} ms); use cron for rarer schedules.`,
      };
    return { ok: true, schedule: { type, value: String(ms) } };
  }
  const at = parseTimestamp(v, opts.timezone);
  if (at === null) {
    return {
      ok: false,
      error: `A once schedule is an ISO timestamp such as "2030-01-06T09:00:00" (local time in ${opts.timezone}) or "2030-01-06T08:00:00Z"; got "${v.slice(0, 60)}".`,
    };
  }
  if (at <= opts.now) {
    return {
      ok: false,
      error: `That time (${formatLocal(at, opts.timezone)}) has already passed; it is now ${formatLocal(opts.now, opts.timezone)}. Give a future time.`,
    };
  }
  return { ok: true, schedule: { type, value: new Date(at).toISOString() } };
}

/**
 * When a task fires next, or null when it never will.
 * - cron: the first match after `now`.
 * - interval: anchored to the previous due time, so runs never drift; slots
 *   missed while the host was down or the task was paused are skipped, not
 *   replayed in a burst. With no previous due time, one interval from now.
 * - once: its time, unless it has already fired (`previousDue` set).
 */
export function nextRun(
  s: Schedule,
  opts: { now: number; timezone: string; previousDue?: number | null },
): number | null {
  const prev = opts.previousDue ?? null;
  if (s.type === 'cron') return cronFor(s.value, opts.timezone).nextRun(new Date(opts.now))?.getTime() ?? null;
  if (s.type === 'interval') {
    const every = Number(s.value);
    if (prev === null) return opts.now + every;
    if (prev > opts.now) return prev;
    const missed = Math.floor((opts.now - prev) / every) + 1;
    return prev + missed * every;
  }
  if (prev !== null) return null;
  return Date.parse(s.value);
}

/**
 * The next `n` fire times after `now` (what the user is shown, so a wrong
 * schedule is caught at once). `first`, when known, is the stored next run.
 */
export function nextRuns(
  s: Schedule,
  n: number,
  opts: { now: number; timezone: string; first?: number | null },
): number[] {
  const first = opts.first ?? nextRun(s, { now: opts.now, timezone: opts.timezone });
  if (first === null || n < 1) return [];
  if (s.type === 'once') return [first];
  if (s.type === 'interval') return Array.from({ length: n }, (_, i) => first + i * Number(s.value));
  return [
    first,
    ...cronFor(s.value, opts.timezone)
      .nextRuns(n - 1, new Date(first))
      .map((d) => d.getTime()),
  ];
}

/** A fire time as the user reads it, e.g. "Mon 6 Jan 2025, 09:00 CET". */
export function formatLocal(ms: number, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    timeZoneName: 'short',
  }).formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('weekday')} ${get('day')} ${get('month')} ${get('year')}, ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}

/** The offset of `timezone` from UTC at instant `ms`, in ms. */
function zoneOffset(ms: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return (
    Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(ms / 1000) * 1000
  );
}

/**
 * An ISO timestamp to epoch ms. Without an offset it is wall-clock time in the
 * user's time zone (what "at 9:00" means to them), not in the host's.
 */
export function parseTimestamp(value: string, timezone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
    value.trim(),
  );
  if (!m) return null;
  if (m[7]) {
    const t = Date.parse(value.trim().replace(' ', 'T'));
    return Number.isNaN(t) ? null : t;
  }
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0));
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  // Two passes settle the offset on either side of a DST change.
  let t = wall - zoneOffset(wall, timezone);
  t = wall - zoneOffset(t, timezone);
  return t;
}
