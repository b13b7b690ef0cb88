import { expect, test } from 'vitest';
import { silentLogger } from '../src/logger.js';
import { createGroupQueue, type Job } from '../src/queue.js';

test('one run per group, never more than the cap overall, the rest in arrival order', async () => {
  let live = 0, peak = 0;
  const started: string[] = [];
  const perGroup = new Map<string, number>();
  const q = createGroupQueue({
    maxConcurrent: 3, retryBaseMs: 1, maxRetries: 5, logger: silentLogger(), onGiveUp: () => {},
    run: async (key) => {
      live++; peak = Math.max(peak, live); started.push(key);
      perGroup.set(key, (perGroup.get(key) ?? 0) + 1);
      expect(perGroup.get(key)).toBe(1);
      await new Promise((r) => setTimeout(r, 5));
      perGroup.set(key, perGroup.get(key)! - 1);
      live--;
    },
  });
  for (let i = 0; i < 20; i++) { q.enqueueMessages(`g${i}`); q.enqueueMessages(`g${i}`); }
  await q.idle();
  expect(peak).toBe(3);
  expect(started.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `g${i}`));
});

test('a failing run is retried with backoff, then the chat is told once', async () => {
  const attempts: number[] = [];
  const gaveUp: { key: string; tries: number }[] = [];
  const q = createGroupQueue({
    maxConcurrent: 2, retryBaseMs: 10, maxRetries: 5, logger: silentLogger(),
    onGiveUp: (key, _job: Job, _err, tries) => gaveUp.push({ key, tries }),
    run: async () => { attempts.push(Date.now()); throw new Error('boom'); },
  });
  q.enqueueMessages('g');
  await q.idle();
  expect(attempts).toHaveLength(5);
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
  // Exponential: each wait at least the base doubled per try.
  gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(10 * 2 ** i - 2));
  expect(gaveUp).toEqual([{ key: 'g', tries: 5 }]);
});
