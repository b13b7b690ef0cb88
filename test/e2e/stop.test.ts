// Stopping with an idle agent: the host stops at once, its sandbox is gone when stop() returns, and neither the
// sandbox's output nor the host's log has an alarming line (the SDK's CLI missing its config file). The sandbox runs
// twice on the same home, because the CLI's config backups from the first run are what it complained about.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { selectRuntime } from '../../src/core/sandbox/runtimes.js';
import { RUNTIMES } from '../../src/plugins/index.js';
import type { SandboxProcess, SandboxRuntime, SandboxSpec } from '../../src/core/types.js';
import { makeHome, startTestEnv, TEST_KEY, until, type TestEnv } from '../support/harness.js';
import { startHostProcess } from '../support/host-process.js';

const ALARMING = /not found|retrying/i;
let env: TestEnv;
const home = makeHome();
const boxes: { box: SandboxProcess; gone: boolean }[] = [];

beforeAll(async () => {
  const { runtime } = await selectRuntime('bwrap', { dataDir: path.join(home, 'data'), home, more: RUNTIMES });
  if (!runtime) throw new Error('bubblewrap is required for this test (apt-get install bubblewrap)');
  // The real runtime, with each sandbox kept so the test can see its output and when it ended.
  const watched: SandboxRuntime = Object.assign(Object.create(runtime), {
    start(spec: SandboxSpec) {
      const box = runtime.start(spec);
      const seen = { box, gone: false };
      void box.exited.then(() => (seen.gone = true));
      boxes.push(seen);
      return box;
    },
  });
  const logger = createLogger({ level: 'info', logsDir: path.join(home, 'logs') });
  env = await startTestEnv({
    home,
    script: () => ({ text: 'Hello from the fake model' }),
    env: { IDLE_TIMEOUT: '600000' },
    host: { runtime: watched, logger },
  });
}, 60_000);
afterAll(async () => {
  await env?.close();
});

async function answeredAndIdle(text: string, replies: number) {
  await env.send('local:main', text);
  await env.waitForReply('local:main', { count: replies });
  await until(
    async () => ((await (await env.api('/api/status')).json()) as any).agents.some((a: any) => !a.working),
    30_000,
    'the agent to wait for a follow-up',
  );
}

async function timedStop(): Promise<number> {
  const at = Date.now();
  await env.host.stop();
  return Date.now() - at;
}

test('stop with an idle agent ends its sandbox at once and logs nothing alarming, on every run', async () => {
  await answeredAndIdle('hello', 1);
  expect(boxes.filter((b) => !b.gone)).toHaveLength(1);
  await env.restart({}, async () => {
    // stop() returned: the sandbox is already gone.
    expect(boxes.every((b) => b.gone)).toBe(true);
  });
  await answeredAndIdle('hello again', 2);
  expect(boxes).toHaveLength(2);
  expect(await timedStop()).toBeLessThan(4000);
  expect(boxes.every((b) => b.gone)).toBe(true);
  for (const { box } of boxes) expect(box.output()).not.toMatch(ALARMING);
  const log = fs.readFileSync(path.join(home, 'logs', 'nanoclaw.log'), 'utf8');
  expect(log).toContain('turn finished');
  expect(log).not.toMatch(ALARMING);
  await env.restart();
});

test('Ctrl-C (SIGINT) on `nanoclaw start` with an idle agent exits at once, leaving no sandbox', async () => {
  const own = makeHome();
  const hostEnv = {
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: env.fake.url,
    NANOCLAW_RUNTIME: 'bwrap',
    IDLE_TIMEOUT: '600000',
  };
  const sandboxesOf = (pid: number) => {
    try {
      return execFileSync('pgrep', ['-P', String(pid), 'bwrap'])
        .toString()
        .trim()
        .split('\n')
        .map(Number);
    } catch {
      return [];
    }
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    for (let run = 1; run <= 2; run++) {
      const host = await startHostProcess(own, hostEnv);
      await host.api('/api/chats/local%3Amain/messages', {
        method: 'POST',
        json: { sender: 'me', senderName: 'Me', text: `hello ${run}` },
      });
      await until(
        async () => ((await (await host.api('/api/status')).json()) as any).agents.some((a: any) => !a.working),
        60_000,
        'the agent to answer and wait for a follow-up',
      );
      const boxPids = sandboxesOf(host.child.pid!);
      expect(boxPids).not.toEqual([]);
      const at = Date.now();
      await host.kill('SIGINT');
      expect(Date.now() - at).toBeLessThan(4000);
      expect(boxPids.filter(alive)).toEqual([]);
      expect(host.output()).not.toMatch(ALARMING);
    }
    expect(fs.readFileSync(path.join(own, 'logs', 'nanoclaw.log'), 'utf8')).not.toMatch(ALARMING);
  } finally {
    fs.rmSync(own, { recursive: true, force: true });
  }
});
