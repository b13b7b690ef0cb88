// The scheduler against a real store, with a queue that only records what it
// was handed and a clock the test moves. Agent runs are played by the test:
// take the job's first turn, report a result, finish.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { AgentFailure } from '../../../src/core/agent/agent.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createScheduler } from '../../../src/plugins/scheduler/scheduler.js';
import { openDatabase } from '../../../src/core/store/db.js';
import { createStore } from '../../../src/host.js';
import type { Store } from '../../../src/core/store/index.js';
import { createTask } from '../../../src/plugins/scheduler/tools.js';
import { until } from '../../support/harness.js';
import { localGroup } from '../../support/groups.js';

const TZ = 'Europe/Berlin';
const HOUR = 3600_000;
const STALE = 30 * 60_000;
const cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.splice(0).forEach((f) => f());
});

const group = (folder: string, isMain = false) => localGroup(folder, isMain, { name: folder });

function setup(opts: { store?: Store; clock?: { now: number } } = {}) {
  const store = opts.store ?? createStore(openDatabase(':memory:'));
  if (!store.groups.main()) {
    store.groups.insert(group('main', true));
    store.groups.insert(group('family'));
  }
  const clock = opts.clock ?? { now: Date.parse('2025-01-06T09:00:00Z') };
  const enqueued: { key: string; taskId: string }[] = [];
  const scheduler = createScheduler({
    store,
    timezone: TZ,
    staleMs: STALE,
    logger: silentLogger(),
    now: () => clock.now,
    queue: { enqueueTask: (key, taskId) => enqueued.push({ key, taskId }) },
  });
  cleanups.push(() => scheduler.stop());
  const schedule = (value: string, type = 'interval', folder = 'family', extra: Record<string, unknown> = {}) => {
    const res = createTask(
      { store, timezone: TZ, now: () => clock.now, onChange: () => scheduler.changed() },
      { groupFolder: folder, prompt: 'Check the plants', scheduleType: type, scheduleValue: value, ...extra },
    );
    if (!res.ok) throw new Error(res.error);
    return res.value;
  };
  /** Plays a successful agent run for a task the queue was handed. */
  const runOnce = (taskId: string, reply = 'Plants are fine.') => {
    const run = scheduler.taskJob(taskId);
    if (!run) return false;
    run.job.firstTurn();
    run.job.onResult(reply, 'session-after-run');
    run.finish(null);
    return true;
  };
  return { store, clock, enqueued, scheduler, schedule, runOnce };
}

test("a due task is handed to its group's queue once, runs, and moves to its next slot", () => {
  const { store, clock, enqueued, scheduler, schedule, runOnce } = setup();
  const t = schedule(String(HOUR));
  scheduler.start();
  expect(enqueued).toEqual([]);
  clock.now += HOUR;
  scheduler.check();
  scheduler.check();
  expect(enqueued).toEqual([{ key: 'local:family', taskId: t.id }]);
  expect(runOnce(t.id)).toBe(true);
  const after = store.tasks.get(t.id)!;
  expect(after).toMatchObject({
    status: 'active',
    lastResult: 'Plants are fine.',
    runningSince: null,
    nextRun: new Date(clock.now + HOUR).toISOString(),
  });
  expect(store.tasks.recentRuns(t.id)).toMatchObject([{ status: 'success', result: 'Plants are fine.' }]);
  // The reply went to the family chat.
  expect(store.outbox.pending().map((o) => [o.chatJid, o.text])).toEqual([['local:family', 'Plants are fine.']]);
});

test('an interval task does not burst after a long pause: one run, then the next slot', () => {
  const { store, clock, enqueued, scheduler, schedule, runOnce } = setup();
  const t = schedule(String(HOUR));
  const created = clock.now;
  scheduler.start();
  clock.now += 10.5 * HOUR; // the host was down for ten slots
  scheduler.check();
  expect(enqueued).toHaveLength(1);
  runOnce(t.id);
  expect(store.tasks.get(t.id)!.nextRun).toBe(new Date(created + 11 * HOUR).toISOString());
  scheduler.check();
  expect(enqueued).toHaveLength(1);
  expect(store.tasks.recentRuns(t.id)).toHaveLength(1);
});

test('a once task fires once and completes; a silent answer posts nothing', () => {
  const { store, clock, enqueued, scheduler, schedule, runOnce } = setup();
  const t = schedule(new Date(clock.now + 5 * 60_000).toISOString(), 'once');
  scheduler.start();
  clock.now += 5 * 60_000;
  scheduler.check();
  runOnce(t.id, '<internal>nothing to say</internal>');
  expect(store.tasks.get(t.id)).toMatchObject({
    status: 'completed',
    nextRun: null,
    lastResult: '(ran without posting a message)',
  });
  expect(store.outbox.pending()).toEqual([]);
  clock.now += HOUR;
  scheduler.check();
  expect(enqueued).toHaveLength(1);
});

test('a task never runs twice at once: two schedulers on one database, only one claims it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-sched-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'messages.db');
  const clock = { now: Date.parse('2025-01-06T09:00:00Z') };
  const a = setup({ store: createStore(openDatabase(file)), clock });
  const b = setup({ store: createStore(openDatabase(file)), clock });
  cleanups.push(() => {
    a.store.close();
    b.store.close();
  });
  const t = a.schedule(String(HOUR));
  clock.now += HOUR;
  a.scheduler.check();
  b.scheduler.check();
  // Both queues were handed it; only one run starts.
  const runA = a.scheduler.taskJob(t.id);
  const runB = b.scheduler.taskJob(t.id);
  expect(runA).not.toBeNull();
  expect(runB).toBeNull();
  runA!.job.firstTurn();
  runA!.job.onResult('Done once.', null);
  runA!.finish(null);
  expect(a.store.tasks.recentRuns(t.id)).toHaveLength(1);
});

test('after a restart, a run claimed by the dead host is not started again until its claim is stale', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-sched-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'messages.db');
  const clock = { now: Date.parse('2025-01-06T09:00:00Z') };
  const before = setup({ store: createStore(openDatabase(file)), clock });
  const t = before.schedule(String(HOUR));
  clock.now += HOUR;
  before.scheduler.check();
  expect(before.scheduler.taskJob(t.id)).not.toBeNull(); // claimed, then the host dies mid-run
  before.scheduler.stop();
  before.store.close();

  const after = setup({ store: createStore(openDatabase(file)), clock });
  cleanups.push(() => after.store.close());
  after.scheduler.start();
  clock.now += 60_000;
  after.scheduler.check();
  expect(after.enqueued).toEqual([]);
  expect(after.scheduler.taskJob(t.id)).toBeNull();
  clock.now += STALE;
  after.scheduler.check();
  expect(after.enqueued).toEqual([{ key: 'local:family', taskId: t.id }]);
  expect(after.runOnce(t.id)).toBe(true);
});

test('a task changed while it runs keeps its new schedule; one cancelled while it runs stays gone', () => {
  const { store, clock, scheduler, schedule } = setup();
  const changed = schedule(String(HOUR));
  const cancelled = schedule(String(HOUR));
  clock.now += HOUR;
  const runs = [scheduler.taskJob(changed.id)!, scheduler.taskJob(cancelled.id)!];
  const newNext = new Date(clock.now + 24 * HOUR).toISOString();
  store.tasks.update(changed.id, { scheduleType: 'cron', scheduleValue: '0 9 * * *', nextRun: newNext });
  store.tasks.remove(cancelled.id);
  for (const run of runs) {
    run.job.firstTurn();
    run.job.onResult('Done.', null);
    run.finish(null);
  }
  expect(store.tasks.get(changed.id)).toMatchObject({
    status: 'active',
    scheduleType: 'cron',
    nextRun: newNext,
    lastResult: 'Done.',
  });
  expect(store.tasks.get(cancelled.id)).toBeUndefined();
});

test('a task whose group is gone is paused with a reason, and the main chat is told', () => {
  const { store, clock, enqueued, scheduler, schedule } = setup();
  const t = schedule(String(HOUR));
  store.groups.remove('local:family');
  clock.now += HOUR;
  scheduler.check();
  expect(enqueued).toEqual([]);
  expect(store.tasks.get(t.id)).toMatchObject({
    status: 'paused',
    statusReason: expect.stringMatching(/group \(folder "family"\) is no longer registered/),
  });
  expect(store.outbox.pending()).toMatchObject([{ chatJid: 'local:main', text: expect.stringContaining(`${t.id}`) }]);
});

test('a failed run is logged and the task moves on; a failed once task is paused and its chat told', () => {
  const { store, clock, scheduler, schedule } = setup();
  const every = schedule(String(HOUR));
  const once = schedule(new Date(clock.now + HOUR).toISOString(), 'once');
  clock.now += HOUR;
  for (const id of [every.id, once.id]) {
    const run = scheduler.taskJob(id)!;
    run.job.firstTurn();
    run.finish(new AgentFailure('model down', 'the model API failed (overloaded)'));
  }
  expect(store.tasks.recentRuns(every.id)).toMatchObject([
    { status: 'error', error: 'the model API failed (overloaded)' },
  ]);
  expect(store.tasks.get(every.id)).toMatchObject({
    status: 'active',
    lastResult: 'Error: the model API failed (overloaded)',
    nextRun: new Date(clock.now + HOUR).toISOString(),
  });
  expect(store.tasks.get(once.id)).toMatchObject({
    status: 'paused',
    statusReason: expect.stringMatching(/run failed.*Resume it/),
  });
  expect(store.outbox.pending()).toMatchObject([{ chatJid: 'local:family', text: expect.stringContaining('failed') }]);
});

test('a run over its token budget is stopped and the task paused with a message to its chat', () => {
  const { store, clock, scheduler, schedule } = setup();
  const t = schedule(String(HOUR), 'interval', 'family', { budgetTokens: 1000 });
  clock.now += HOUR;
  const run = scheduler.taskJob(t.id)!;
  const kills: string[] = [];
  run.attach({ kill: (why) => kills.push(why) });
  run.job.firstTurn();
  run.job.onUsage!(600);
  expect(kills).toEqual([]);
  run.job.onUsage!(600);
  expect(kills).toEqual(['its run used 1200 tokens, over its budget of 1000']);
  run.finish(new AgentFailure('killed', 'its sandbox was stopped'));
  expect(store.tasks.get(t.id)).toMatchObject({
    status: 'paused',
    statusReason: expect.stringContaining('over its budget of 1000'),
  });
  expect(store.tasks.recentRuns(t.id)).toMatchObject([{ status: 'over_budget' }]);
  expect(store.outbox.pending()).toMatchObject([
    {
      chatJid: 'local:family',
      text: expect.stringMatching(/stopped the scheduled task .* paused it: its run used 1200 tokens/),
    },
  ]);
});

test('the timer wakes the scheduler for the next due task: nobody polls or calls check', async () => {
  const store = createStore(openDatabase(':memory:'));
  store.groups.insert(group('main', true));
  const enqueued: string[] = [];
  const scheduler = createScheduler({
    store,
    timezone: TZ,
    staleMs: STALE,
    logger: silentLogger(),
    queue: { enqueueTask: (_k, id) => enqueued.push(id) },
  });
  cleanups.push(() => scheduler.stop());
  scheduler.start();
  const res = createTask(
    { store, timezone: TZ, onChange: () => scheduler.changed() },
    {
      groupFolder: 'main',
      prompt: 'ping',
      scheduleType: 'once',
      scheduleValue: new Date(Date.now() + 300).toISOString(),
    },
  );
  expect(res.ok).toBe(true);
  await until(() => enqueued.length === 1, 10_000, 'the timer to hand the task to the queue');
  expect(enqueued).toEqual([(res as any).value.id]);
});

test('a once task that ran late says when it ran and how late, not "as scheduled"', () => {
  const { store, clock, scheduler, schedule, runOnce } = setup();
  const onTime = schedule(new Date(clock.now + 5 * 60_000).toISOString(), 'once');
  const late = schedule(new Date(clock.now + 10 * 60_000).toISOString(), 'once', 'main');
  scheduler.start();
  clock.now += 5 * 60_000;
  scheduler.check();
  runOnce(onTime.id);
  expect(store.tasks.get(onTime.id)!.statusReason).toBe('Completed: it ran once, at Mon 6 Jan 2025, 10:05 CET.');
  clock.now += 3 * HOUR; // the host was down when the second one was due
  scheduler.check();
  runOnce(late.id);
  expect(store.tasks.get(late.id)!.statusReason).toBe(
    'Completed: it ran once, at Mon 6 Jan 2025, 13:05 CET, 3 h late (it was due Mon 6 Jan 2025, 10:10 CET).',
  );
});

test('without the health plugin (no usage meter) a task still runs and its run is recorded', async () => {
  const { openStore } = await import('../../../src/core/store/index.js');
  const { scheduler: schedulerPlugin } = await import('../../../src/plugins/scheduler/index.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-sched-alone-'));
  const store = openStore(path.join(dir, 'messages.db'), { parts: [schedulerPlugin] });
  cleanups.push(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const { clock, enqueued, scheduler, schedule, runOnce } = setup({ store });
  const task = schedule(String(HOUR));
  scheduler.start();
  clock.now += HOUR;
  scheduler.check();
  expect(enqueued).toEqual([{ key: 'local:family', taskId: task.id }]);
  expect(runOnce(task.id)).toBe(true);
  expect(store.tasks.recentRuns(task.id, 5)).toEqual([expect.objectContaining({ status: 'success', inputTokens: 0 })]);
});
