import { expect, test } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { createGroupQueue, type Job } from '../../src/core/queue/group-queue.js';

test('one run per group, never more than the cap overall, the rest in arrival order', async () => {
  let live = 0,
    peak = 0;
  const started: string[] = [];
  const perGroup = new Map<string, number>();
  const q = createGroupQueue({
    maxConcurrent: 3,
    retryBaseMs: 1,
    maxRetries: 5,
    logger: silentLogger(),
    onGiveUp: () => {},
    run: async (key) => {
      live++;
      peak = Math.max(peak, live);
      started.push(key);
      perGroup.set(key, (perGroup.get(key) ?? 0) + 1);
      expect(perGroup.get(key)).toBe(1);
      await new Promise((r) => setTimeout(r, 5));
      perGroup.set(key, perGroup.get(key)! - 1);
      live--;
    },
  });
  for (let i = 0; i < 20; i++) {
    q.enqueueMessages(`g${i}`);
    q.enqueueMessages(`g${i}`);
  }
  await q.idle();
  expect(peak).toBe(3);
  expect(started.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `g${i}`));
});

test('a failing run is retried with backoff, then the chat is told once', async () => {
  const attempts: number[] = [];
  const gaveUp: { key: string; tries: number }[] = [];
  const q = createGroupQueue({
    maxConcurrent: 2,
    retryBaseMs: 10,
    maxRetries: 5,
    logger: silentLogger(),
    onGiveUp: (key, _job: Job, _err, tries) => gaveUp.push({ key, tries }),
    run: async () => {
      attempts.push(Date.now());
      throw new Error('boom');
    },
  });
  q.enqueueMessages('g');
  await q.idle();
  expect(attempts).toHaveLength(5);
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
  // Exponential: each wait at least the base doubled per try.
  gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(10 * 2 ** i - 2));
  expect(gaveUp).toEqual([{ key: 'g', tries: 5 }]);
});

/** A queue whose runs last until the test ends them, recording what ran and who was asked to yield. */
function controlledQueue(maxConcurrent: number) {
  const log: string[] = [];
  const yields: string[] = [];
  const open = new Map<string, () => void>();
  const q = createGroupQueue({
    maxConcurrent,
    retryBaseMs: 1,
    maxRetries: 1,
    logger: silentLogger(),
    onGiveUp: () => {},
    yieldFor: (key) => yields.push(key),
    run: (key, job) => {
      log.push(`${key}:${job.kind === 'task' ? job.taskId : 'messages'}`);
      return new Promise<void>((r) => open.set(key, r));
    },
  });
  const end = (key: string) => {
    const r = open.get(key)!;
    open.delete(key);
    r();
  };
  return { q, log, yields, end };
}
const tick = () => new Promise((r) => setImmediate(r));

test("a task due while its group's conversation is live asks that conversation to yield, then runs before the messages that came meanwhile", async () => {
  const { q, log, yields, end } = controlledQueue(3);
  q.enqueueMessages('g');
  q.enqueueTask('g', 't1');
  q.enqueueTask('g', 't1');
  expect(yields).toEqual(['g']);
  q.enqueueMessages('g'); // the chat keeps talking
  end('g');
  await tick();
  expect(log).toEqual(['g:messages', 'g:t1']);
  end('g');
  await tick();
  expect(log).toEqual(['g:messages', 'g:t1', 'g:messages']);
  end('g');
  await q.idle();
  expect(yields).toEqual(['g']);
});

test('at the cap, a due task asks one conversation to make room and goes before groups that only have messages', async () => {
  const { q, log, yields, end } = controlledQueue(2);
  q.enqueueMessages('a');
  q.enqueueMessages('b');
  q.enqueueMessages('c'); // waits for a slot
  q.enqueueTask('d', 't1');
  expect(yields).toEqual(['a']);
  q.enqueueTask('d', 't2'); // the same group: one slot is enough
  expect(yields).toEqual(['a']);
  end('a');
  await tick();
  expect(log).toEqual(['a:messages', 'b:messages', 'd:t1']);
  end('d');
  await tick();
  expect(log.at(-1)).toBe('d:t2');
  end('d');
  await tick();
  expect(log.at(-1)).toBe('c:messages');
  end('b');
  end('c');
  await q.idle();
});

test('a task does not ask anyone to yield when it can start at once or its group already runs a task', async () => {
  const { q, yields, end } = controlledQueue(2);
  q.enqueueTask('g', 't1');
  q.enqueueTask('g', 't2');
  q.enqueueTask('h', 't3');
  expect(yields).toEqual([]);
  end('g');
  await tick();
  end('g');
  end('h');
  await q.idle();
});

test('a warm agent starts only in a free slot nobody waits for, and is the first asked to make room', async () => {
  const log: string[] = [];
  const yields: string[] = [];
  const open = new Map<string, () => void>();
  const idle = new Map<string, number>();
  const q = createGroupQueue({
    ...{ maxConcurrent: 2, retryBaseMs: 1, maxRetries: 1, logger: silentLogger(), onGiveUp: () => {} },
    yieldFor: (key) => yields.push(key),
    idleSince: (key) => idle.get(key) ?? null,
    run: (key, job) => {
      log.push(`${key}:${job.kind === 'messages' && job.warm ? 'warm' : job.kind}`);
      return new Promise<void>((r) => open.set(key, r));
    },
  });
  const end = (key: string) => open.get(key)!();
  q.enqueueMessages('a');
  q.warm('a'); // its chat already has a run
  q.warm('w');
  idle.set('w', 0);
  q.warm('x'); // no slot free: not queued
  expect(log).toEqual(['a:messages', 'w:warm']);
  expect(q.waitingCount()).toBe(0);
  idle.set('a', Date.now());
  q.enqueueMessages('b');
  expect(yields).toEqual(['w']);
  end('w');
  await tick();
  expect(log.at(-1)).toBe('b:messages');
  end('a');
  end('b');
  await q.idle();
  expect(log).toEqual(['a:messages', 'w:warm', 'b:messages']);
});
