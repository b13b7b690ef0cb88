// Schedules that would never fire, fire every second, run an agent nearly
// non-stop, or are not schedules at all: each is refused with an error that
// says what is wrong, by the rules themselves and through schedule_task and
// update_task on a real gateway endpoint, and no task is created or changed.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { validateSchedule } from '../../src/plugins/scheduler/schedule.js';
import { countCases } from './count.js';
import { startRig, storeDigest, TZ, type Rig } from './support.js';

countCases('schedule');

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.close();
});

type Row = [type: string, value: string | number, error: RegExp];

const NEVER = /never fires \(no such date\)/;
const FIELDS = /A cron schedule has 5 fields/;
const INVALID = /^Invalid cron /;

const HOSTILE_SCHEDULES: Row[] = [
  // Cron that never fires.
  ['cron', '0 0 30 2 *', NEVER],
  ['cron', '0 0 31 2 *', NEVER],
  ['cron', '0 0 31 4 *', NEVER],
  ['cron', '0 0 31 6 *', NEVER],
  ['cron', '0 0 31 9 *', NEVER],
  ['cron', '0 0 31 11 *', NEVER],
  ['cron', '59 23 31 2,4,6 *', NEVER],
  ['cron', '0 0 30 2 ?', NEVER],
  ['cron', '0 0 30W 2 *', NEVER],
  // Cron that fires every second (or with a seconds or years field).
  ['cron', '* * * * * *', FIELDS],
  ['cron', '*/1 * * * * *', FIELDS],
  ['cron', '0/1 * * * * *', FIELDS],
  ['cron', '*/5 * * * * *', FIELDS],
  ['cron', '* * * * * * *', FIELDS],
  ['cron', '0 0 1 1 * 2030', FIELDS],
  ['cron', '  *   *  *  *  *  *  ', FIELDS],
  ['cron', '@every 1s', INVALID],
  ['cron', '@secondly', INVALID],
  ['cron', '@minutely', INVALID],
  ['cron', '@reboot', INVALID],
  ['cron', '@ * * * * * *', INVALID],
  // Not cron at all.
  ['cron', '', FIELDS],
  ['cron', 'every day at nine', FIELDS],
  ['cron', '* * * *', FIELDS],
  ['cron', 5, FIELDS],
  ['cron', '60 * * * *', INVALID],
  ['cron', '* 24 * * *', INVALID],
  ['cron', '*/0 * * * *', INVALID],
  ['cron', '0 0 0 * *', INVALID],
  ['cron', '0 0 * 13 *', INVALID],
  ['cron', '0 0 * * 8', INVALID],
  ['cron', '-1 * * * *', INVALID],
  ['cron', '\u0660 \u0660 * * *', INVALID],
  ['cron', '0\u00000 * * * *', INVALID],
  ['cron', '0 0 * * 1#6', INVALID],
  ['cron', '$(id) * * * *', INVALID],
  // Intervals below the minimum, above the maximum, or not a whole number of ms.
  ['interval', '0', /at least 60000 ms \(one minute\); got 0/],
  ['interval', '1', /at least 60000 ms/],
  ['interval', '1000', /at least 60000 ms/],
  ['interval', '59999', /at least 60000 ms/],
  ['interval', 1000, /at least 60000 ms/],
  ['interval', '-60000', /whole number of milliseconds/],
  ['interval', -1, /whole number of milliseconds/],
  ['interval', '60000.5', /whole number of milliseconds/],
  ['interval', 60000.5, /whole number of milliseconds/],
  ['interval', '1e5', /whole number of milliseconds/],
  ['interval', '0x10000', /whole number of milliseconds/],
  ['interval', 'Infinity', /whole number of milliseconds/],
  ['interval', 'NaN', /whole number of milliseconds/],
  ['interval', '', /whole number of milliseconds/],
  ['interval', '\uff16\uff10\uff10\uff10\uff10', /whole number of milliseconds/],
  ['interval', '60000 ms', /whole number of milliseconds/],
  ['interval', '99999999999999999999', /at most a year/],
  ['interval', String(366 * 24 * 3600_000 + 1), /at most a year/],
  // Once: in the past, impossible, or not a timestamp.
  ['once', '2020-01-01T09:00:00', /has already passed/],
  ['once', '1970-01-01T00:00:00Z', /has already passed/],
  ['once', '2030-02-30T09:00:00', /is an ISO timestamp/],
  ['once', '2030-13-01T00:00', /is an ISO timestamp/],
  ['once', '2030-01-01T25:00', /is an ISO timestamp/],
  ['once', '2030-01-01T23:60', /is an ISO timestamp/],
  ['once', '2030-01-01T09:00:00+25:00', /is an ISO timestamp/],
  ['once', '+275760-09-13T00:00:00Z', /is an ISO timestamp/],
  ['once', '2030-01-01', /is an ISO timestamp/],
  ['once', 'tomorrow', /is an ISO timestamp/],
  ['once', 'now', /is an ISO timestamp/],
  ['once', 1_900_000_000_000, /is an ISO timestamp/],
  ['once', '2030-01-01T09:00:00Z; DROP TABLE scheduled_tasks', /is an ISO timestamp/],
];

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('the rules', () => {
  test.each(HOSTILE_SCHEDULES)('%s %j is refused', (type, value, error) => {
    const r = validateSchedule(type, value, { now: NOW, timezone: TZ });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(error) });
  });

  test.each([
    ['cron', '* * * * *'],
    ['cron', '0 0 29 2 *'],
    ['cron', '@yearly'],
    ['interval', '60000'],
    ['once', '2026-03-01T12:01:00Z'],
  ])('the edge %s %j is allowed (the refusals are not blanket)', (type, value) => {
    expect(validateSchedule(type, value, { now: NOW, timezone: TZ }).ok).toBe(true);
  });
});

describe('through the tools', () => {
  test.each(HOSTILE_SCHEDULES)('schedule_task %s %j is refused, nothing created', async (type, value, error) => {
    const digest = storeDigest(rig.store);
    const r = await rig.tool('family', 'schedule_task', {
      prompt: 'do it',
      schedule_type: type,
      schedule_value: value,
    });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(error) });
    expect(storeDigest(rig.store)).toBe(digest);
  });

  test.each(HOSTILE_SCHEDULES.filter((_r, i) => i % 3 === 0))(
    'update_task to %s %j is refused, the task unchanged',
    async (type, value, error) => {
      const digest = storeDigest(rig.store);
      const r = await rig.tool('family', 'update_task', {
        task_id: rig.familyTask,
        schedule_type: type,
        schedule_value: value,
      });
      expect(r).toEqual({ ok: false, error: expect.stringMatching(error) });
      expect(storeDigest(rig.store)).toBe(digest);
    },
  );
});
