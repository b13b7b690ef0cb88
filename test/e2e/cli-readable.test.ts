// What the `nanoclaw` command shows in the first hour, run as a child process
// against a real host: groups named by folder, agents working vs idle, one
// readable log line per turn, times in the locale's format, and a service unit
// without temporary npx paths.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { lastUserText } from '../support/fake-anthropic.js';
import { makeHome, startTestEnv, until, type TestEnv } from '../support/harness.js';

const CLI = path.resolve('dist/src/cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with only the environment given. */
function spawnRun(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? os.tmpdir(),
        TZ: 'Europe/Berlin',
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `nanoclaw …` with only the environment given. */
const nanoclaw = (args: string[], env: Record<string, string>) => spawnRun(process.execPath, [CLI, ...args], env);

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json).`);
});

describe('with a host running', () => {
  let env: TestEnv;
  let release: () => void = () => {};
  let held: Promise<void> = Promise.resolve();
  const home = makeHome('nanoclaw-cli-readable-');
  const run = (args: string[], extra: Record<string, string> = {}) => nanoclaw(args, { NANOCLAW_HOME: home, ...extra });

  beforeAll(async () => {
    fs.mkdirSync(path.join(home, 'logs'), { recursive: true });
    env = await startTestEnv({
      home,
      // An idle agent stays alive for follow-ups long enough to be seen idle.
      env: { IDLE_TIMEOUT: '60000' },
      host: { logger: createLogger({ level: 'info', logsDir: path.join(home, 'logs') }) },
      script: async (req) => {
        if (lastUserText(req).includes('HOLD')) await held;
        return { text: 'Hello from the fake model', usage: { input_tokens: 120, output_tokens: 30 } };
      },
    });
    fs.writeFileSync(path.join(home, 'data', 'host.json'), JSON.stringify({ url: env.host.url, pid: process.pid }));
  });
  afterAll(async () => {
    release();
    await env?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('groups remove takes the folder that add and chat --group take, or the jid', async () => {
    expect((await run(['groups', 'add', 'local:club', 'Book club', 'club'])).code).toBe(0);
    const byFolder = await run(['groups', 'remove', 'club']);
    expect(byFolder.stderr).toBe('');
    expect(byFolder.stdout).toContain('Removed local:club');
    expect((await run(['groups', 'list'])).stdout).not.toContain('local:club');

    expect((await run(['groups', 'add', 'local:club', 'Book club', 'club'])).code).toBe(0);
    expect((await run(['groups', 'remove', 'local:club'])).stdout).toContain('Removed local:club');

    const unknown = await run(['groups', 'remove', 'no-such-group']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no-such-group');
    expect(unknown.stderr).toContain('nanoclaw groups list');
  });

  test('status tells an agent in a turn (working) from one waiting for follow-ups (idle)', async () => {
    held = new Promise((r) => (release = r));
    await env.send('local:main', 'HOLD on a moment');
    await until(async () => env.fake.requests.some((r) => lastUserText(r).includes('HOLD')), 60_000, 'the model call');
    let busy: Run;
    try {
      busy = await run(['status']);
    } finally {
      release();
    }
    expect(busy.stdout).toMatch(/Agents\s+1 working, 0 idle/);
    expect(busy.stdout).toMatch(/Main \(main\) working/);

    await env.waitForReply('local:main');
    await until(async () => {
      const s = (await (await env.api('/api/status')).json()) as { agents: { working: boolean }[] };
      return s.agents.length === 1 && !s.agents[0].working;
    });
    const idle = await run(['status']);
    expect(idle.stdout).toMatch(/Agents\s+0 working, 1 idle/);
    expect(idle.stdout).toMatch(/Main \(main\) idle/);
  });

  test('logs shows one readable line per finished turn: chat, trigger, run time, tokens, outcome', async () => {
    await env.send('local:main', 'what is the weather');
    await env.waitForReply('local:main', { count: 2 });
    const file = path.join(home, 'logs', 'nanoclaw.log');
    await until(
      () => fs.readFileSync(file, 'utf8').split('turn finished').length > 2,
      10_000,
      'two turn lines in the log',
    );
    const res = await run(['logs', '--group', 'main']);
    expect(res.code).toBe(0);
    const turns = res.stdout.split('\n').filter((l) => l.includes('turn in main'));
    expect(turns.length).toBeGreaterThanOrEqual(2);
    for (const line of turns)
      expect(line).toMatch(/INFO\s+turn in main \(local:main\), (message|follow-up), \d+s, [\d,]+ tokens: answered$/);
    expect(turns.some((l) => / 150 tokens/.test(l) || /[1-9][\d,]* tokens/.test(l))).toBe(true);
  });

  test("tasks, status and logs show times in the locale's format, all the same way", async () => {
    const due = new Date(Date.now() + 2 * 86_400_000);
    due.setUTCHours(13, 30, 0, 0); // 14:30 or 15:30 in Berlin: an afternoon either way
    const created = await env.api('/api/tasks', {
      method: 'POST',
      json: {
        group_folder: 'main',
        prompt: 'Water the plants',
        schedule_type: 'once',
        schedule_value: due.toISOString(),
      },
    });
    expect(created.status).toBe(201);
    for (const [locale, pattern] of [
      ['en_US.UTF-8', /\b\d\d:\d\d(:\d\d)? PM\b/],
      ['en_GB.UTF-8', /\b1[45]:30\b/],
    ] as const) {
      const extra = { LC_ALL: locale, LANG: locale };
      const tasks = await run(['tasks', 'list'], extra);
      const status = await run(['status'], extra);
      const logs = await run(['logs', '--lines', '3'], extra);
      expect(tasks.stdout).toMatch(pattern);
      expect(status.stdout).toMatch(/Next tasks/);
      expect(status.stdout).toMatch(pattern);
      const stamp = /^(\S+( [AP]M)?) /.exec(logs.stdout.trim().split('\n')[0])![1];
      if (locale.startsWith('en_US')) expect(stamp).toMatch(/^\d\d:\d\d:\d\d [AP]M$/);
      else expect(stamp).toMatch(/^\d\d:\d\d:\d\d$/);
    }
  });
});

test("service install keeps npx's and npm run's temporary folders out of the unit's PATH", async () => {
  const home = makeHome('nanoclaw-cli-service-');
  try {
    const dir = path.join(home, 'units');
    const temporary = [
      path.join(os.homedir(), '.npm', '_npx', '6a9c1f', 'node_modules', '.bin'),
      '/srv/project/node_modules/.bin',
      '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin',
      path.join(os.tmpdir(), 'xfs-3c2a', 'bin'),
    ];
    const res = await nanoclaw(['service', 'install', '--platform', 'linux'], {
      NANOCLAW_HOME: home,
      NANOCLAW_SERVICE_DIR: dir,
      PATH: [...temporary, '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    });
    expect(res.code).toBe(0);
    const unit = fs.readFileSync(path.join(dir, 'nanoclaw.service'), 'utf8');
    const servicePath = /^Environment="PATH=(.*)"$/m.exec(unit)![1].split(':');
    for (const t of temporary) expect(servicePath).not.toContain(t);
    expect(servicePath.join(':')).not.toMatch(/_npx|node_modules|node-gyp-bin/);
    expect(servicePath).toEqual(
      expect.arrayContaining(['/usr/local/bin', '/usr/bin', '/bin', path.dirname(process.execPath)]),
    );
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

describe('piped into a reader that stops early', () => {
  test('`nanoclaw logs | head -1` prints one line and ends quietly with 0, not an EPIPE stack trace', async () => {
    const home = makeHome('nanoclaw-cli-pipe-');
    fs.mkdirSync(path.join(home, 'logs'), { recursive: true });
    // Far more than a pipe holds, so the command is still writing when head has gone.
    const line = (i: number) => JSON.stringify({ level: 30, time: Date.now(), msg: `line ${i}`, group: 'main' });
    fs.writeFileSync(
      path.join(home, 'logs', 'nanoclaw.log'),
      Array.from({ length: 20_000 }, (_, i) => line(i)).join('\n'),
    );
    const res = await spawnRun(
      'bash',
      ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" logs --lines 20000 | head -1; echo "exit $?" >&2`],
      { NANOCLAW_HOME: home },
    );
    fs.rmSync(home, { recursive: true, force: true });
    expect(res.stdout.trim().split('\n')).toHaveLength(1);
    expect(res.stdout).toMatch(/INFO\s+line \d+/);
    expect(res.stderr).toBe('exit 0\n');
  });
});
