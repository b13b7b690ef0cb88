// When a chat's heartbeat beats: every N minutes from when it was turned on, never in its quiet hours (the owner's
// time zone), never for a chat without one; and what of the agent's answer reaches the chat.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { homePaths } from '../../../src/core/config/home.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openDatabase } from '../../../src/core/store/db.js';
import { createStore } from '../../../src/host.js';
import { createHeartbeat, isQuiet, worthSaying } from '../../../src/plugins/heartbeat/heartbeat.js';
import { localGroup } from '../../support/groups.js';

const TZ = 'Europe/Berlin';
const homes: string[] = [];
afterEach(() => homes.splice(0).forEach((h) => fs.rmSync(h, { recursive: true, force: true })));

function setup(sandbox: object) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-heartbeat-'));
  homes.push(home);
  const paths = homePaths(home);
  const store = createStore(openDatabase(':memory:'));
  store.groups.insert(localGroup('main', true));
  store.groups.insert(localGroup('home', false, { sandbox }));
  store.groups.insert(localGroup('work'));
  fs.mkdirSync(path.join(paths.groups, 'home'), { recursive: true });
  fs.writeFileSync(path.join(paths.groups, 'home', 'HEARTBEAT.md'), 'Look at todo.md.\n');
  // 10:00 in Berlin.
  const clock = { now: Date.parse('2026-01-06T09:00:00Z') };
  const enqueued: string[] = [];
  const hb = createHeartbeat({
    store,
    paths,
    queue: { enqueueTask: (key, taskId) => enqueued.push(`${key} ${taskId}`) },
    timezone: TZ,
    budgetTokens: 1000,
    logger: silentLogger(),
    now: () => clock.now,
  });
  /** Moves the clock on by `minutes` and checks, as the minute timer does. */
  const after = (minutes: number) => {
    clock.now += minutes * 60_000;
    hb.check();
    return [...enqueued];
  };
  return { after, store };
}

test('a chat beats every N minutes from when it was turned on, and no other chat beats', () => {
  const { after } = setup({ heartbeatMinutes: 30 });
  expect(after(0)).toEqual([]);
  expect(after(29)).toEqual([]);
  expect(after(1)).toEqual(['local:home heartbeat:home']);
  // The beat not yet run is not queued twice.
  expect(after(30)).toEqual(['local:home heartbeat:home']);
});

test('no beat in the quiet hours, in the owner time zone', () => {
  // 10:00 in Berlin is quiet here; 09:00 UTC is not.
  const { after, store } = setup({ heartbeatMinutes: 30, heartbeatQuiet: '09:30-11:00' });
  after(0);
  expect(after(30)).toEqual([]);
  expect(after(30)).toEqual(['local:home heartbeat:home']);
  expect(store.heartbeats.recent('home')).toEqual([]);
});

test('quiet hours across midnight, and what reaches the chat', () => {
  const at = (hhmm: string) => Date.parse(`2026-01-06T${hhmm}:00+01:00`);
  expect(isQuiet(at('23:30'), '22:00-07:00', TZ)).toBe(true);
  expect(isQuiet(at('06:59'), undefined, TZ)).toBe(true);
  expect(isQuiet(at('07:00'), undefined, TZ)).toBe(false);
  expect(isQuiet(at('03:00'), 'off', TZ)).toBe(false);
  expect(worthSaying('HEARTBEAT_OK')).toBe('');
  expect(worthSaying('**HEARTBEAT_OK**.')).toBe('');
  expect(worthSaying('<internal>checked todo.md</internal>')).toBe('');
  expect(worthSaying('  ')).toBe('');
  expect(worthSaying('The dentist is at 15:00.')).toBe('The dentist is at 15:00.');
});
