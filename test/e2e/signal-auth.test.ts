// `nanoclaw auth signal` and `nanoclaw doctor`, run as a user runs them, against
// a fake signal-cli daemon: the address and number are checked before they are
// saved, and a daemon that does not answer is explained with the command to run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/core/config/config.js';
import { signalSettings } from '../../src/plugins/signal/plugin.js';
import { startFakeSignalCli, type FakeSignalCli } from '../support/fake-signal-cli.js';
import { makeHome } from '../support/harness.js';

const CLI = path.resolve('dist/src/cli.js');
let sig: FakeSignalCli;
const home = makeHome('nanoclaw-signal-auth-');

function nanoclaw(args: string[], input = ''): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), NO_COLOR: '1', NANOCLAW_HOME: home },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(input);
  });
}

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json).`);
  sig = await startFakeSignalCli('+15550000000');
});
afterAll(async () => {
  await sig?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

test('auth signal refuses a daemon that is not running or does not serve the number, then saves a good one', async () => {
  const down = await nanoclaw(['auth', 'signal', 'http://127.0.0.1:9', '+15550000000']);
  expect(down.code).toBe(1);
  expect(down.out).toContain('signal-cli -a +15550000000 daemon --http 127.0.0.1:8080');
  expect(down.out).toContain('Nothing changed.');
  expect(fs.existsSync(path.join(home, '.env'))).toBe(false);

  const wrong = await nanoclaw(['auth', 'signal'], `${sig.url}\n+15559998888\n`);
  expect(wrong.code).toBe(1);
  expect(wrong.out).toContain('does not serve +15559998888 (it has: +15550000000)');

  const ok = await nanoclaw(['auth', 'signal'], `${sig.url}\n+15550000000\n`);
  expect(ok.code, ok.out).toBe(0);
  expect(ok.out).toContain(`signal-cli 0.13.4 answers at ${sig.url}`);
  const settings = signalSettings(loadConfig({ NANOCLAW_HOME: home }, home).env);
  expect(settings).toEqual({ url: sig.url, account: '+15550000000', owner: null });

  const doctor = await nanoclaw(['doctor']);
  expect(doctor.out).toMatch(/Signal.*\+15550000000 via http:\/\/127\.0\.0\.1:\d+/);
});
