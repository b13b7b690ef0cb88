// The credential stays on the host: the upstream request carries it, and
// nothing the agent can see inside its sandbox does.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText } from '../support/fake-anthropic.js';
import { startTestEnv, TEST_KEY, type TestEnv } from '../support/harness.js';

let env: TestEnv;
const PROBE = [
  'echo "== env"; env',
  'echo "== proc environ"; for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f" 2>/dev/null; done',
  'echo "== proc cmdline"; for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; echo; done',
  'echo "== files"; grep -rIl "honeytoken" /workspace /home /tmp /etc /run /app/runner /app/package.json 2>/dev/null || echo "no file matches"',
  'echo "== host home"; ls / ; ls /root 2>&1 | head -3',
].join('; ');

beforeAll(async () => {
  env = await startTestEnv({
    script: (req) =>
      isToolResultTurn(req)
        ? { text: 'Checked.' }
        : { toolUse: { name: 'Bash', input: { command: PROBE, description: 'look for secrets' } } },
  });
});
afterAll(async () => {
  await env?.close();
});

test('the upstream gets the real key; the sandbox never sees it', async () => {
  await env.send('local:main', 'look around');
  await env.waitForReply('local:main');
  const modelCalls = env.fake.requests.filter((r) => r.path === '/v1/messages');
  expect(modelCalls.length).toBeGreaterThanOrEqual(2);
  for (const r of modelCalls) expect(r.headers['x-api-key']).toBe(TEST_KEY);

  const probe = lastUserText(env.fake.turnRequests().find(isToolResultTurn)!);
  // The probe really ran and printed the environment and processes.
  expect(probe).toContain('== env');
  expect(probe).toContain('HOME=/home/node');
  expect(probe).toContain('ANTHROPIC_API_KEY=placeholder');
  expect(probe).toContain('/app/runner/index.js');
  expect(probe).toContain('no file matches');
  // Nothing the sandbox could read contains the key or the honeytoken marker.
  for (const r of env.fake.requests) {
    expect(JSON.stringify(r.body)).not.toContain(TEST_KEY);
    expect(JSON.stringify(r.body)).not.toContain('honeytoken-7f3a');
  }
});
