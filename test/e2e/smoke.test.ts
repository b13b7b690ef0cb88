import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestEnv, type TestEnv } from '../support/harness.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startTestEnv({ script: () => ({ text: 'Hello from the fake model' }) });
});
afterAll(async () => {
  await env?.close();
});

test('main answers', async () => {
  await env.send('local:main', 'hi there');
  const replies = await env.waitForReply('local:main');
  expect(replies[0].text).toBe('Hello from the fake model');
});
