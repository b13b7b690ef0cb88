// Schedule arithmetic with a fixed clock: what the user is told and when a task fires.
import { describe, expect, test } from 'vitest';
import {
  formatLocal,
  nextRun,
  nextRuns,
  parseTimestamp,
  validateSchedule,
  type Schedule,
} from '../../../src/plugins/scheduler/schedule.js';

const TZ = 'Europe/Berlin';
const at = (s: string) => Date.parse(s);
const local = (ms: number[]) => ms.map((t) => formatLocal(t, TZ));

describe('cron', () => {
  test('the next three fire times are in the configured time zone', () => {
    // Friday 28 March 2025, 12:00 UTC; Berlin switches to summer time on Sunday 30 March.
    const now = at('2025-03-28T12:00:00Z');
    const checked = validateSchedule('cron', '0 9 * * 1-5', { now, timezone: TZ });
    expect(checked.ok).toBe(true);
    const times = nextRuns({ type: 'cron', value: '0 9 * * 1-5' }, 3, { now, timezone: TZ });
    expect(local(times)).toEqual([
      'Mon 31 Mar 2025, 09:00 CEST',
      'Tue 1 Apr 2025, 09:00 CEST',
      'Wed 2 Apr 2025, 09:00 CEST',
    ]);
    expect(new Date(times[0]).toISOString()).toBe('2025-03-31T07:00:00.000Z');
  });

  test('a different zone gives different instants for the same pattern', () => {
    const now = at('2025-01-06T00:00:00Z');
    const ny = nextRun({ type: 'cron', value: '30 8 * * *' }, { now, timezone: 'America/New_York' });
    expect(new Date(ny!).toISOString()).toBe('2025-01-06T13:30:00.000Z');
  });

  test('invalid patterns are refused with a reason', () => {
    const opts = { now: at('2025-01-06T00:00:00Z'), timezone: TZ };
    const six = validateSchedule('cron', '0 0 9 * * 1-5', opts);
    expect(six).toMatchObject({ ok: false });
    expect((six as any).error).toMatch(/5 fields/);
    const bad = validateSchedule('cron', '61 9 * * *', opts);
    expect((bad as any).error).toMatch(/Invalid cron.*minute/);
    const never = validateSchedule('cron', '0 0 30 2 *', opts);
    expect((never as any).error).toMatch(/never fires/);
  });
});

describe('interval', () => {
  const every = { type: 'interval', value: String(3600_000) } as Schedule;

  test('the first run is one interval after creation', () => {
    const now = at('2025-01-06T10:00:00Z');
    expect(nextRun(every, { now, timezone: TZ })).toBe(at('2025-01-06T11:00:00Z'));
  });

  test('anchored to the previous due time: a late run does not shift the phase', () => {
    // Due at 11:00, ran late and finished at 11:20: the next is 12:00, not 12:20.
    expect(
      nextRun(every, { now: at('2025-01-06T11:20:00Z'), timezone: TZ, previousDue: at('2025-01-06T11:00:00Z') }),
    ).toBe(at('2025-01-06T12:00:00Z'));
  });

  test('after a long pause the missed slots are skipped, not replayed in a burst', () => {
    const previousDue = at('2025-01-06T11:00:00Z');
    const now = at('2025-01-06T21:30:00Z'); // ten slots missed
    const next = nextRun(every, { now, timezone: TZ, previousDue })!;
    expect(next).toBe(at('2025-01-06T22:00:00Z'));
    // Only one run is due after that: the one after it is an hour later again.
    expect(nextRun(every, { now: next + 1000, timezone: TZ, previousDue: next })).toBe(at('2025-01-06T23:00:00Z'));
  });

  test('intervals must be whole milliseconds of at least a minute', () => {
    const opts = { now: 0, timezone: TZ };
    expect((validateSchedule('interval', '1h', opts) as any).error).toMatch(/whole number of milliseconds/);
    expect((validateSchedule('interval', '500', opts) as any).error).toMatch(/at least 60000/);
    expect(validateSchedule('interval', 60_000, opts)).toEqual({
      ok: true,
      schedule: { type: 'interval', value: '60000' },
    });
  });
});

describe('once', () => {
  const now = at('2025-01-06T10:00:00Z');

  test('a time in the past is refused with a clear error', () => {
    const res = validateSchedule('once', '2025-01-06T09:00:00Z', { now, timezone: TZ });
    expect(res.ok).toBe(false);
    expect((res as any).error).toBe(
      'That time (Mon 6 Jan 2025, 10:00 CET) has already passed; it is now Mon 6 Jan 2025, 11:00 CET. Give a future time.',
    );
  });

  test("a time without an offset is the user's local time", () => {
    const res = validateSchedule('once', '2025-01-06T18:30:00', { now, timezone: TZ });
    expect(res).toEqual({ ok: true, schedule: { type: 'once', value: '2025-01-06T17:30:00.000Z' } });
    // Across the summer-time change the offset is the one in force on that day.
    expect(parseTimestamp('2025-07-01T09:00', TZ)).toBe(at('2025-07-01T07:00:00Z'));
  });

  test('fires once: after it ran there is no next run', () => {
    const s = { type: 'once', value: '2025-01-06T17:30:00.000Z' } as Schedule;
    expect(nextRun(s, { now, timezone: TZ })).toBe(at('2025-01-06T17:30:00Z'));
    expect(
      nextRun(s, { now: at('2025-01-06T17:31:00Z'), timezone: TZ, previousDue: at('2025-01-06T17:30:00Z') }),
    ).toBeNull();
    expect(nextRuns(s, 3, { now, timezone: TZ })).toHaveLength(1);
  });

  test('garbage is refused', () => {
    expect((validateSchedule('once', 'tomorrow at nine', { now, timezone: TZ }) as any).error).toMatch(/ISO timestamp/);
    expect((validateSchedule('once', '2025-02-30T09:00', { now, timezone: TZ }) as any).error).toMatch(/ISO timestamp/);
    expect((validateSchedule('weekly', 'x', { now, timezone: TZ }) as any).error).toMatch(/cron, interval or once/);
  });
});
