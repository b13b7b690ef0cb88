// The task queries against a real SQLite database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { openDatabase } from '../../../src/core/store/db.js';
import { createStore } from '../../../src/host.js';
import type { NewTask } from '../../../src/plugins/scheduler/store.js';

const fresh = () => createStore(openDatabase(':memory:'));
const task = (over: Partial<NewTask> = {}): NewTask => ({
  id: 'task-1',
  groupFolder: 'family',
  chatJid: 'local:family',
  prompt: 'Water the plants',
  scheduleType: 'interval',
  scheduleValue: '3600000',
  contextMode: 'isolated',
  nextRun: '2025-01-06T10:00:00.000Z',
  createdAt: '2025-01-06T09:00:00.000Z',
  ...over,
});

test('create, read, list by group and all, update, status', () => {
  const store = fresh();
  const t = store.tasks.create(task({ budgetTokens: 5000 }));
  expect(t).toMatchObject({
    id: 'task-1',
    status: 'active',
    statusReason: null,
    budgetTokens: 5000,
    runningSince: null,
    lastRun: null,
  });
  store.tasks.create(task({ id: 'task-2', groupFolder: 'main', chatJid: 'local:main' }));
  expect(store.tasks.listByGroup('family').map((x) => x.id)).toEqual(['task-1']);
  expect(
    store.tasks
      .listAll()
      .map((x) => x.id)
      .sort(),
  ).toEqual(['task-1', 'task-2']);

  const updated = store.tasks.update('task-1', {
    prompt: 'Water the basil',
    scheduleType: 'cron',
    scheduleValue: '0 9 * * *',
    nextRun: '2025-01-07T08:00:00.000Z',
  });
  expect(updated).toMatchObject({
    prompt: 'Water the basil',
    scheduleType: 'cron',
    scheduleValue: '0 9 * * *',
    nextRun: '2025-01-07T08:00:00.000Z',
  });

  store.tasks.setStatus('task-1', 'paused', { reason: 'Paused on request.' });
  expect(store.tasks.get('task-1')).toMatchObject({
    status: 'paused',
    statusReason: 'Paused on request.',
    nextRun: '2025-01-07T08:00:00.000Z',
  });
  expect(store.tasks.active().map((x) => x.id)).toEqual(['task-2']);
});

test('due tasks are active, past their time and not held by a live run', () => {
  const store = fresh();
  store.tasks.create(task({ id: 'due', nextRun: '2025-01-06T10:00:00.000Z' }));
  store.tasks.create(task({ id: 'later', nextRun: '2025-01-06T12:00:00.000Z' }));
  store.tasks.create(task({ id: 'paused', nextRun: '2025-01-06T09:00:00.000Z' }));
  store.tasks.setStatus('paused', 'paused');
  const now = '2025-01-06T11:00:00.000Z';
  const stale = '2025-01-06T10:30:00.000Z';
  expect(store.tasks.due(now, stale).map((t) => t.id)).toEqual(['due']);
  expect(store.tasks.claim('due', now, stale)).toBe(true);
  expect(store.tasks.due(now, stale)).toEqual([]);
});

test('a claim is taken once; a stale claim can be taken over; release gives it back', () => {
  const store = fresh();
  store.tasks.create(task());
  expect(store.tasks.claim('task-1', '2025-01-06T10:00:00.000Z', '2025-01-06T09:30:00.000Z')).toBe(true);
  expect(store.tasks.claim('task-1', '2025-01-06T10:01:00.000Z', '2025-01-06T09:31:00.000Z')).toBe(false);
  // Half an hour later the first claim is older than the stale limit: its run died.
  expect(store.tasks.claim('task-1', '2025-01-06T10:40:00.000Z', '2025-01-06T10:10:00.000Z')).toBe(true);
  store.tasks.release('task-1');
  expect(store.tasks.get('task-1')!.runningSince).toBeNull();
  store.tasks.setStatus('task-1', 'paused');
  expect(store.tasks.claim('task-1', '2025-01-06T10:41:00.000Z', '2025-01-06T10:11:00.000Z')).toBe(false);
});

test('two connections to one database: only one wins the claim', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-tasks-'));
  try {
    const a = createStore(openDatabase(path.join(dir, 'messages.db')));
    const b = createStore(openDatabase(path.join(dir, 'messages.db')));
    a.tasks.create(task());
    const now = '2025-01-06T10:00:00.000Z';
    const results = [
      a.tasks.claim('task-1', now, '2025-01-06T09:00:00.000Z'),
      b.tasks.claim('task-1', now, '2025-01-06T09:00:00.000Z'),
    ];
    expect(results.filter(Boolean)).toHaveLength(1);
    a.close();
    b.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the run log: start, finish, recent runs newest first; finishing moves the schedule and frees the claim', () => {
  const store = fresh();
  store.tasks.create(task());
  store.tasks.claim('task-1', '2025-01-06T10:00:00.000Z', '2025-01-06T09:00:00.000Z');
  const first = store.tasks.startRun('task-1', '2025-01-06T10:00:00.000Z');
  store.tasks.finishRun(first, {
    durationMs: 1200,
    status: 'success',
    result: 'Watered.',
    inputTokens: 100,
    outputTokens: 20,
  });
  store.tasks.finish('task-1', {
    lastRun: '2025-01-06T10:00:00.000Z',
    lastResult: 'Watered.',
    nextRun: '2025-01-06T11:00:00.000Z',
  });
  const second = store.tasks.startRun('task-1', '2025-01-06T11:00:00.000Z');
  store.tasks.finishRun(second, { durationMs: 800, status: 'error', error: 'the model API failed' });

  expect(store.tasks.recentRuns('task-1')).toEqual([
    {
      id: second,
      taskId: 'task-1',
      startedAt: '2025-01-06T11:00:00.000Z',
      durationMs: 800,
      status: 'error',
      result: null,
      error: 'the model API failed',
      inputTokens: 0,
      outputTokens: 0,
    },
    {
      id: first,
      taskId: 'task-1',
      startedAt: '2025-01-06T10:00:00.000Z',
      durationMs: 1200,
      status: 'success',
      result: 'Watered.',
      error: null,
      inputTokens: 100,
      outputTokens: 20,
    },
  ]);
  expect(store.tasks.get('task-1')).toMatchObject({
    runningSince: null,
    lastRun: '2025-01-06T10:00:00.000Z',
    lastResult: 'Watered.',
    nextRun: '2025-01-06T11:00:00.000Z',
    status: 'active',
  });

  store.tasks.finish('task-1', {
    lastRun: '2025-01-06T11:00:00.000Z',
    lastResult: 'Done',
    nextRun: null,
    status: 'completed',
    statusReason: 'Completed.',
  });
  expect(store.tasks.get('task-1')).toMatchObject({ status: 'completed', statusReason: 'Completed.', nextRun: null });
});

test('removing a task removes its run log', () => {
  const store = fresh();
  store.tasks.create(task());
  store.tasks.startRun('task-1', '2025-01-06T10:00:00.000Z');
  expect(store.tasks.remove('task-1')).toBe(true);
  expect(store.tasks.get('task-1')).toBeUndefined();
  expect(store.tasks.recentRuns('task-1')).toEqual([]);
  expect(store.tasks.remove('task-1')).toBe(false);
});
