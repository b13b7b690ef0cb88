// The switch on its own, against two fake upstreams on 127.0.0.1: when every upstream fails the primary's answer
// is what the chat's agent gets (as without fallbacks), and a fallback that fails while the primary is back sends
// the call to the primary again.
import { afterEach, beforeEach, expect, test } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { createFailover } from '../../../src/plugins/failover/failover.js';
import { startFakeAnthropic, type FakeAnthropic } from '../../support/fake-anthropic.js';

let primary: FakeAnthropic;
let fallback: FakeAnthropic;
let told: string[];
let failover: ReturnType<typeof createFailover>;
const identity = { chatJid: 'local:main', groupFolder: 'main', isMain: true, taskId: null };
const call = () =>
  failover.send(
    '/v1/messages',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'primary-key-123456' },
      body: new TextEncoder().encode(JSON.stringify({ model: 'claude-x', max_tokens: 5, messages: [] })),
    },
    identity,
  );

beforeEach(async () => {
  primary = await startFakeAnthropic();
  fallback = await startFakeAnthropic();
  told = [];
  failover = createFailover({
    primary: primary.url,
    fallbacks: [{ url: fallback.url, keyEnv: 'FB_KEY', key: 'fallback-key-123456', model: null }],
    timeoutMs: 2000,
    // No background check in these tests: only calls move the host.
    checkMs: 60_000,
    tell: (_jid, text) => told.push(text),
    logger: silentLogger(),
  });
});
afterEach(async () => {
  failover.stop();
  await primary.close();
  await fallback.close();
});

test("every upstream failing: the primary's answer comes back, nobody is told of a fallback", async () => {
  primary.setScript(() => ({ status: 529 }));
  fallback.setScript(() => ({ status: 503 }));
  const res = await call();
  expect(res.status).toBe(529);
  expect(await res.json()).toMatchObject({ error: { type: 'overloaded_error' } });
  expect(told).toEqual([]);
  expect(failover.state()).toMatchObject({ onPrimary: true, why: null });
});

test('on a fallback that stops answering, the call goes to the primary again if it answers', async () => {
  primary.setScript(() => ({ status: 529 }));
  expect((await call()).status).toBe(200);
  expect(told).toEqual([
    `Answered by claude-x on ${fallback.url}: ${primary.url} is overloaded (HTTP 529). NanoClaw goes back to the primary once it answers again.`,
  ]);
  expect(failover.state()).toMatchObject({ onPrimary: false, active: fallback.url });
  expect(fallback.requests.at(-1)!.headers['x-api-key']).toBe('fallback-key-123456');

  primary.setScript(undefined as never);
  await fallback.setDown(true);
  expect((await call()).status).toBe(200);
  expect(failover.state()).toMatchObject({ onPrimary: true, why: null });
  expect(told).toHaveLength(1);
});

test('every upstream down: the call fails saying why the primary could not answer', async () => {
  await primary.setDown(true);
  await fallback.setDown(true);
  await expect(call()).rejects.toThrow('refused the connection');
  expect(told).toEqual([]);
});
