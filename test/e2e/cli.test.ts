// The built `nanoclaw` command, run as a child process the way a user runs it:
// status and doctor against a running host and against none, tasks, logs,
// auth, service install (files only; no service is started), and the first
// run of `start` without a terminal.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/core/config/config.js';
import { runSetup } from '../../src/cli/setup.js';
import { telegramSettings } from '../../src/plugins/telegram/plugin.js';
import { makeHome, startTestEnv, TEST_KEY, until, type TestEnv } from '../support/harness.js';
import { startFakeTelegram } from '../support/fake-telegram.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';

const CLI = path.resolve('dist/src/cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `nanoclaw …` with only the environment given (never the developer's credentials). */
function nanoclaw(args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? os.tmpdir(),
        TZ: 'Europe/Berlin',
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
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
    child.stdin.end(input ?? '');
  });
}

/** A 127.0.0.1 port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const homes: string[] = [];
function freshHome(): string {
  const h = makeHome('nanoclaw-cli-');
  homes.push(h);
  return h;
}

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json).`);
});
afterAll(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

describe('with no host running', () => {
  test('status says it is not running and how to start it, with exit code 3', async () => {
    const home = freshHome();
    const never = await nanoclaw(['status'], { NANOCLAW_HOME: home });
    expect(never.code).toBe(3);
    expect(never.stdout).toContain('has never been started');
    expect(never.stdout).toContain('nanoclaw start');

    // Started once before, stopped since: a token and a stale address are left behind.
    fs.mkdirSync(path.join(home, 'data'), { recursive: true });
    fs.writeFileSync(path.join(home, 'data', 'api-token'), 'x'.repeat(43) + '\n', { mode: 0o600 });
    fs.writeFileSync(
      path.join(home, 'data', 'host.json'),
      JSON.stringify({ url: `http://127.0.0.1:${await closedPort()}` }),
    );
    const stopped = await nanoclaw(['status'], { NANOCLAW_HOME: home });
    expect(stopped.code).toBe(3);
    expect(stopped.stdout).toContain('is not running');
  });

  test('doctor on an unconfigured install fails, says how to fix each problem, and exits 1', async () => {
    const home = freshHome();
    const port = await closedPort();
    const res = await nanoclaw(['doctor'], {
      NANOCLAW_HOME: home,
      NANOCLAW_CONFIG_DIR: path.join(home, 'cfg'),
      NANOCLAW_RUNTIME: 'bwrap',
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
    });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/✗ Credential\s+no Anthropic credential/);
    expect(res.stdout).toContain('nanoclaw auth claude');
    expect(res.stdout).toMatch(/✗ Model API\s+cannot reach http:\/\/127\.0\.0\.1:\d+/);
    expect(res.stdout).toMatch(/✓ Sandbox\s+bwrap/);
    expect(res.stdout).toMatch(/Running\s+not running/);
  });

  test('doctor on a configured install that is not running passes without printing the key', async () => {
    const env = await startTestEnv();
    try {
      const home = freshHome();
      fs.writeFileSync(path.join(home, '.env'), `ANTHROPIC_API_KEY=${TEST_KEY}\n`, { mode: 0o600 });
      const childEnv = {
        NANOCLAW_HOME: home,
        NANOCLAW_CONFIG_DIR: path.join(home, 'cfg'),
        NANOCLAW_RUNTIME: 'bwrap',
        ANTHROPIC_BASE_URL: env.fake.url,
      };
      const res = await nanoclaw(['doctor'], childEnv);
      expect(res.stdout).toMatch(/✓ Credential\s+API key present \(ANTHROPIC_API_KEY, from \.env\)/);
      expect(res.stdout).toMatch(/✓ Model API\s+http:\/\/127\.0\.0\.1:\d+ answers/);
      expect(res.stdout).toMatch(/Running\s+not running/);
      expect(res.code).toBe(0);
      expect(res.stdout + res.stderr).not.toContain(TEST_KEY);

      // A credentials file others can read is a problem, with the command that fixes it.
      fs.chmodSync(path.join(home, '.env'), 0o644);
      const open = await nanoclaw(['doctor'], childEnv);
      expect(open.code).toBe(1);
      expect(open.stdout).toContain(`chmod 600 ${path.join(home, '.env')}`);
    } finally {
      await env.close();
    }
  });
});

describe('with a host running', () => {
  let env: TestEnv;
  let childEnv: Record<string, string>;
  const writeAddress = () =>
    fs.writeFileSync(path.join(env.home, 'data', 'host.json'), JSON.stringify({ url: env.host.url, pid: process.pid }));

  beforeAll(async () => {
    env = await startTestEnv({ script: () => ({ text: 'Hello from the fake model' }) });
    writeAddress();
    childEnv = {
      NANOCLAW_HOME: env.home,
      NANOCLAW_CONFIG_DIR: path.join(env.home, '.config-nanoclaw'),
      NANOCLAW_RUNTIME: 'bwrap',
      ANTHROPIC_API_KEY: TEST_KEY,
      ANTHROPIC_BASE_URL: env.fake.url,
    };
  });
  afterAll(async () => {
    await env?.close();
  });

  test('status shows a healthy host on one screen and exits 0', async () => {
    await env.send('local:main', 'hello');
    await env.waitForReply('local:main');
    const res = await nanoclaw(['status'], { NANOCLAW_HOME: env.home });
    expect(res.stdout).toContain('Andy is running');
    expect(res.stdout).toMatch(/Sandbox\s+bwrap/);
    expect(res.stdout).toMatch(/Channels\s+local connected/);
    expect(res.stdout).toMatch(/Groups\s+1 registered/);
    expect(res.code).toBe(0);
    const json = JSON.parse((await nanoclaw(['status', '--json'], { NANOCLAW_HOME: env.home })).stdout);
    expect(json).toMatchObject({ running: true, ok: true, status: { runtime: 'bwrap', credential: true } });
  });

  test('doctor passes against the running host', async () => {
    const res = await nanoclaw(['doctor'], childEnv);
    expect(res.stdout).toMatch(/✓ Running\s+yes \(pid \d+/);
    expect(res.stdout).toMatch(/✓ Store\s+.*\(700\)/);
    expect(res.stdout).toContain('Everything NanoClaw needs is in place');
    expect(res.code).toBe(0);
    expect(res.stdout + res.stderr).not.toContain(TEST_KEY);
  });

  test('doctor fails when store/ is open to other users, and says how to fix it', async () => {
    const store = path.join(env.home, 'store');
    fs.chmodSync(store, 0o755);
    try {
      const res = await nanoclaw(['doctor'], childEnv);
      expect(res.code).toBe(1);
      expect(res.stdout).toContain(`chmod 700 ${store}`);
    } finally {
      fs.chmodSync(store, 0o700);
    }
  });

  test('tasks list, pause and resume through the CLI', async () => {
    const created = await env.api('/api/tasks', {
      method: 'POST',
      json: {
        group_folder: 'main',
        prompt: 'Summarise the week',
        schedule_type: 'interval',
        schedule_value: String(3_600_000),
      },
    });
    expect(created.status).toBe(201);
    const { task } = (await created.json()) as { task: { id: string } };
    const list = await nanoclaw(['tasks', 'list'], { NANOCLAW_HOME: env.home });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(task.id);
    expect(list.stdout).toContain('Summarise the week');
    expect(list.stdout).toContain('every 1h00m');

    const paused = await nanoclaw(['tasks', 'pause', task.id], { NANOCLAW_HOME: env.home });
    expect(paused.code).toBe(0);
    expect(((await (await env.api(`/api/tasks/${task.id}`)).json()) as any).task.status).toBe('paused');
    expect((await nanoclaw(['tasks', 'resume', task.id], { NANOCLAW_HOME: env.home })).code).toBe(0);
    expect(((await (await env.api(`/api/tasks/${task.id}`)).json()) as any).task.status).toBe('active');

    const missing = await nanoclaw(['tasks', 'pause', 'no-such-task'], { NANOCLAW_HOME: env.home });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no-such-task');
  });

  test("tasks add creates cron, interval and once tasks, a time read in the owner's time zone", async () => {
    const add = (...args: string[]) => nanoclaw(['tasks', 'add', ...args], { NANOCLAW_HOME: env.home });
    const every = await add('main', 'Water the plants', '--every', '2h');
    expect(every.code).toBe(0);
    expect(every.stdout).toMatch(/Added task-\S+ in main, every 2h00m; next run/);
    const cron = await add('main', 'Weekday weather', '--cron', '0 9 * * 1-5', '--with-history', '--budget', '20000');
    expect(cron.code).toBe(0);
    // The host's TZ is Europe/Berlin: 09:00 there on 6 January is 08:00 UTC.
    const once = await add('main', 'Call Sam', '--at', '2030-01-06 09:00');
    expect(once.code).toBe(0);
    const { tasks } = (await (await env.api('/api/tasks')).json()) as { tasks: any[] };
    const byPrompt = (p: string) => tasks.find((t) => t.prompt === p);
    expect(byPrompt('Water the plants')).toMatchObject({ scheduleType: 'interval', scheduleValue: '7200000' });
    expect(byPrompt('Weekday weather')).toMatchObject({
      scheduleType: 'cron',
      scheduleValue: '0 9 * * 1-5',
      contextMode: 'group',
      budgetTokens: 20000,
    });
    expect(byPrompt('Call Sam')).toMatchObject({ scheduleType: 'once', nextRun: '2030-01-06T08:00:00.000Z' });

    const past = await add('main', 'Too late', '--at', '2001-01-01 09:00');
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('Could not add the task');
    const noWhen = await add('main', 'Whenever');
    expect(noWhen.code).toBe(2);
    expect(noWhen.stderr).toContain('Give exactly one of --cron, --every or --at.');
    expect(noWhen.stderr).toContain('nanoclaw tasks add main "Check the build" --every 30m');
    const badEvery = await add('main', 'Often', '--every', 'often');
    expect(badEvery.stderr).toContain('--every takes minutes, hours or days');
    const tasksAfter = (await (await env.api('/api/tasks')).json()) as { tasks: unknown[] };
    expect(tasksAfter.tasks).toHaveLength(tasks.length);
  });

  test('after a restart, status shows no last error from the previous run', async () => {
    env.fake.refuse(401);
    try {
      await env.send('local:main', 'are you there?');
      await env.untilChat('local:main', (ms) => ms.some((m) => /couldn't answer/.test(m.text)), 30_000, 'the refusal');
    } finally {
      env.fake.refuse(null);
    }
    const before = await nanoclaw(['status'], { NANOCLAW_HOME: env.home });
    expect(before.stdout).toMatch(/Last error\s+.*refused/);

    await env.restart();
    writeAddress();
    const status = (await (await env.api('/api/status')).json()) as { lastError: unknown };
    expect(status.lastError).toBeNull();
    const after = await nanoclaw(['status'], { NANOCLAW_HOME: env.home });
    expect(after.stdout).toContain('Andy is running');
    expect(after.stdout).not.toContain('Last error');
    expect(after.code).toBe(0);
    // The Activity page keeps it, with its time.
    const { errors } = (await (await env.api('/api/errors')).json()) as { errors: { at: string; message: string }[] };
    expect(errors[0]).toMatchObject({ at: expect.any(String), message: expect.stringMatching(/refused/) });
  });

  test('status exits 1 and says what to do when something needs attention', async () => {
    await env.restart({ ANTHROPIC_API_KEY: '' });
    writeAddress();
    const res = await nanoclaw(['status'], { NANOCLAW_HOME: env.home });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/Credential\s+missing/);
    expect(res.stdout).toContain('Needs attention');
    expect(res.stdout).toContain('ANTHROPIC_API_KEY');
  });
});

describe('service install', () => {
  test('writes a systemd unit whose paths exist, without starting anything', async () => {
    const home = freshHome();
    const dir = path.join(home, 'units');
    const res = await nanoclaw(['service', 'install', '--platform', 'linux'], {
      NANOCLAW_HOME: home,
      NANOCLAW_SERVICE_DIR: dir,
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Not activated');
    const unit = fs.readFileSync(path.join(dir, 'nanoclaw.service'), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1];
    const argv = [...exec.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
    expect(argv.slice(2)).toEqual(['start', '--no-setup']);
    fs.accessSync(argv[0], fs.constants.X_OK);
    expect(fs.existsSync(argv[1])).toBe(true);
    expect(/^WorkingDirectory=(.*)$/m.exec(unit)![1]).toBe(home);
    expect(unit).toContain(`Environment="NANOCLAW_HOME=${home}"`);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    const log = /^StandardOutput=append:(.*)$/m.exec(unit)![1];
    expect(fs.statSync(path.dirname(log)).isDirectory()).toBe(true);
    expect(path.dirname(log)).toBe(path.join(home, 'logs'));

    const removed = await nanoclaw(['service', 'uninstall', '--platform', 'linux'], {
      NANOCLAW_HOME: home,
      NANOCLAW_SERVICE_DIR: dir,
    });
    expect(removed.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'nanoclaw.service'))).toBe(false);
  });

  test('writes a launchd plist whose paths exist; --dry-run writes nothing', async () => {
    const home = freshHome();
    const dir = path.join(home, 'agents');
    const dry = await nanoclaw(['service', 'install', '--platform', 'darwin', '--dry-run'], {
      NANOCLAW_HOME: home,
      NANOCLAW_SERVICE_DIR: dir,
    });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('<key>ProgramArguments</key>');
    expect(fs.existsSync(dir)).toBe(false);

    const res = await nanoclaw(['service', 'install', '--platform', 'darwin'], {
      NANOCLAW_HOME: home,
      NANOCLAW_SERVICE_DIR: dir,
    });
    expect(res.code).toBe(0);
    const plist = fs.readFileSync(path.join(dir, 'com.nanoclaw.plist'), 'utf8');
    const args = [
      .../<key>ProgramArguments<\/key>\s*<array>([\s\S]*?)<\/array>/
        .exec(plist)![1]
        .matchAll(/<string>(.*?)<\/string>/g),
    ].map((m) => m[1]);
    expect(args.slice(2)).toEqual(['start', '--no-setup']);
    fs.accessSync(args[0], fs.constants.X_OK);
    expect(fs.existsSync(args[1])).toBe(true);
    expect(plist).toContain(`<key>NANOCLAW_HOME</key><string>${home}</string>`);
    expect(plist).toMatch(/<key>KeepAlive<\/key>\s*<dict><key>SuccessfulExit<\/key><false\/><\/dict>/);
    const out = /<key>StandardOutPath<\/key><string>(.*?)<\/string>/.exec(plist)![1];
    expect(fs.statSync(path.dirname(out)).isDirectory()).toBe(true);
  });
  test('carries the settings exported in the shell into the service, and names the secrets it leaves out', async () => {
    const home = freshHome();
    fs.writeFileSync(path.join(home, '.env'), 'ASSISTANT_NAME=Bob\n');
    const dir = path.join(home, 'units');
    const exported = {
      NANOCLAW_HOME: home,
      NANOCLAW_SERVICE_DIR: dir,
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/v1-proxy',
      NANOCLAW_HTTP_PORT: '7999',
      NANOCLAW_CONFIG_DIR: path.join(home, 'cfg 100%'),
      ASSISTANT_NAME: 'Bob',
      ANTHROPIC_API_KEY: 'sk-ant-service-test-0123456789',
      EMAIL_PASSWORD: 'short',
    };
    const dry = await nanoclaw(['service', 'install', '--platform', 'linux', '--dry-run'], exported);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Environment="ANTHROPIC_BASE_URL=http://127.0.0.1:9/v1-proxy"');
    expect(dry.stdout).toContain('Environment="NANOCLAW_HTTP_PORT=7999"');
    expect(dry.stdout).toContain(`Environment="NANOCLAW_CONFIG_DIR=${path.join(home, 'cfg 100%%')}"`);
    // Already in the home's .env, which the service reads itself.
    expect(dry.stdout).not.toContain('ASSISTANT_NAME=');
    expect(dry.stdout).toMatch(/Left out of the service .*: ANTHROPIC_API_KEY, EMAIL_PASSWORD\. Put them in .*\.env/);
    expect(dry.stdout + dry.stderr).not.toContain('sk-ant-service-test');
    expect(dry.stdout + dry.stderr).not.toContain('short');
    expect(fs.existsSync(dir)).toBe(false);

    const res = await nanoclaw(['service', 'install', '--platform', 'darwin'], exported);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Carried from this shell into the service: ANTHROPIC_BASE_URL, NANOCLAW_CONFIG_DIR');
    const plist = fs.readFileSync(path.join(dir, 'com.nanoclaw.plist'), 'utf8');
    expect(plist).toContain('<key>NANOCLAW_HTTP_PORT</key><string>7999</string>');
    expect(plist).not.toContain('ANTHROPIC_API_KEY');
  });
});

test('logs prints the log for people and filters by group', async () => {
  const home = freshHome();
  fs.mkdirSync(path.join(home, 'logs'));
  const t = Date.parse('2025-03-01T10:00:00Z');
  const lines = [
    { level: 30, time: t, pid: 1, hostname: 'h', msg: 'NanoClaw started' },
    { level: 40, time: t + 1000, pid: 1, hostname: 'h', group: 'family', attempt: 2, msg: 'run failed; retrying' },
    { level: 30, time: t + 2000, pid: 1, hostname: 'h', group: 'work', msg: 'sandbox started' },
    { level: 50, time: t + 3000, pid: 1, hostname: 'h', groupFolder: 'family', msg: 'gave up' },
  ];
  fs.writeFileSync(path.join(home, 'logs', 'nanoclaw.log'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const all = await nanoclaw(['logs'], { NANOCLAW_HOME: home });
  expect(all.code).toBe(0);
  expect(all.stdout.trim().split('\n')).toHaveLength(4);
  expect(all.stdout).toMatch(/WARN\s+run failed; retrying\s+group=family attempt=2/);
  expect(all.stdout).not.toContain('hostname');

  const family = await nanoclaw(['logs', '--group', 'family'], { NANOCLAW_HOME: home });
  expect(family.stdout).toContain('run failed; retrying');
  expect(family.stdout).toContain('gave up');
  expect(family.stdout).not.toContain('sandbox started');
  expect(family.stdout).not.toContain('NanoClaw started');

  const errors = await nanoclaw(['logs', '--level', 'error'], { NANOCLAW_HOME: home });
  expect(errors.stdout.trim().split('\n')).toEqual([expect.stringContaining('gave up')]);

  const none = await nanoclaw(['logs'], { NANOCLAW_HOME: freshHome() });
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('No log yet');
});

test('logs -f prints each line as it is written, from the start again once the log is replaced, until Ctrl-C', async () => {
  const home = freshHome();
  const file = path.join(home, 'logs', 'nanoclaw.log');
  fs.mkdirSync(path.dirname(file));
  const line = (msg: string) => JSON.stringify({ level: 30, time: Date.now(), pid: 1, hostname: 'h', msg }) + '\n';
  fs.writeFileSync(file, line('before the follow'));
  const child = spawn(process.execPath, [CLI, 'logs', '-f'], { env: { ...process.env, NANOCLAW_HOME: home } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await until(() => out.includes('before the follow'), 20_000, 'the existing line');
  fs.appendFileSync(file, line('appended later'));
  await until(() => out.includes('appended later'), 20_000, 'the appended line');
  fs.writeFileSync(file + '.new', line('in a new log'));
  fs.renameSync(file + '.new', file);
  await until(() => out.includes('in a new log'), 20_000, 'the line of the replaced log');
  const code = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  expect(await code).toBe(0);
  expect(out.match(/appended later/g)).toHaveLength(1);
});

test('auth telegram and auth claude store piped secrets in .env (0600) without echoing them', async () => {
  const home = freshHome();
  const bot = '123456789:AAFakeTokenForTestsOnly_abcdefghijklmno';
  const telegram = await startFakeTelegram({ token: bot });
  let tg: Run;
  try {
    tg = await nanoclaw(['auth', 'telegram'], { NANOCLAW_HOME: home, TELEGRAM_API_ROOT: telegram.apiRoot }, bot + '\n');
  } finally {
    await telegram.close();
  }
  expect(tg.code).toBe(0);
  expect(tg.stdout).toContain('Saved: this is @Andy_Test_Bot.');
  expect(tg.stdout + tg.stderr).not.toContain(bot);
  const file = path.join(home, '.env');
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(file, 'utf8')).toContain(`TELEGRAM_BOT_TOKEN=${bot}`);

  const oauth = 'sk-ant-oat01-fake-oauth-token-for-tests-only';
  // The key is tried against the model API before it is saved: a local fake one, never the real API.
  const model = await startFakeAnthropic();
  let claude: Run;
  try {
    claude = await nanoclaw(['auth', 'claude'], { NANOCLAW_HOME: home, ANTHROPIC_BASE_URL: model.url }, oauth + '\n');
    expect(model.requests.at(-1)?.headers.authorization).toBe(`Bearer ${oauth}`);
  } finally {
    await model.close();
  }
  expect(claude.code).toBe(0);
  expect(claude.stdout + claude.stderr).not.toContain(oauth);
  const config = loadConfig({ NANOCLAW_HOME: home }, home);
  expect(config.credential).toEqual({ kind: 'oauth', value: oauth });
  expect(telegramSettings(config.env).token).toBe(bot);

  const bad = await nanoclaw(['auth', 'telegram'], { NANOCLAW_HOME: home }, 'not a token\n');
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('does not look like a Telegram bot token');
});

test('auth telegram checks the token with getMe: a refused token is not saved, an unreachable API is explained', async () => {
  const home = freshHome();
  const good = '123456789:AAFakeTokenForTestsOnly_abcdefghijklmno';
  const wrong = '123456789:AAWrongTokenForTestsOnly_abcdefghijklmn';
  const telegram = await startFakeTelegram({ token: good });
  let refused: Run;
  try {
    refused = await nanoclaw(
      ['auth', 'telegram'],
      { NANOCLAW_HOME: home, TELEGRAM_API_ROOT: telegram.apiRoot },
      wrong + '\n',
    );
    expect(telegram.callsTo('getMe')).toHaveLength(1);
  } finally {
    await telegram.close();
  }
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('Telegram refused this token: copy it again from @BotFather');
  expect(fs.existsSync(path.join(home, '.env')) && fs.readFileSync(path.join(home, '.env'), 'utf8')).not.toContain(
    'TELEGRAM_BOT_TOKEN',
  );

  const port = await closedPort();
  const offline = await nanoclaw(
    ['auth', 'telegram'],
    { NANOCLAW_HOME: home, TELEGRAM_API_ROOT: `http://127.0.0.1:${port}` },
    good + '\n',
  );
  expect(offline.code).toBe(0);
  expect(offline.stdout).toContain(`not checked with Telegram. Cannot reach 127.0.0.1:${port} (ECONNREFUSED)`);
  expect(fs.readFileSync(path.join(home, '.env'), 'utf8')).toContain(`TELEGRAM_BOT_TOKEN=${good}`);
});

/** `nanoclaw …` left running, for tests that interrupt it. */
function running(command: string, args: string[], env: Record<string, string>) {
  const child = spawn(command, args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? os.tmpdir(),
      TZ: 'Europe/Berlin',
      NO_COLOR: '1',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const got = { out: '' };
  child.stdout.on('data', (d) => (got.out += d));
  child.stderr.on('data', (d) => (got.out += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  // Bounded: a process that ignores Ctrl-C fails the test instead of hanging it.
  const exited = () =>
    Promise.race([
      closed,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still running after Ctrl-C:\n${got.out}`)), 15_000).unref(),
      ),
    ]);
  return { child, got, exited };
}

test('auth whatsapp without a reachable WhatsApp says so at once, and Ctrl-C ends it with code 130', async () => {
  const port = await closedPort();
  const link = running(process.execPath, [CLI, 'auth', 'whatsapp'], {
    NANOCLAW_HOME: freshHome(),
    WHATSAPP_WS_URL: `ws://127.0.0.1:${port}/ws/chat`,
  });
  try {
    await until(() => link.got.out.includes('Cannot reach'), 15_000, 'the connection problem');
    expect(link.got.out).toContain(
      `Cannot reach 127.0.0.1:${port} (ECONNREFUSED): check this machine's internet connection`,
    );
    link.child.kill('SIGINT');
    expect(await link.exited()).toBe(130);
    expect(link.got.out).toContain('Stopped (Ctrl-C)');
  } finally {
    link.child.kill('SIGKILL');
  }
});

describe('Ctrl-C in the guided setup (at a terminal, through script(1))', () => {
  /** `nanoclaw start` on a pseudo-terminal, so the guided setup runs and Ctrl-C is a keypress. */
  function onTerminal(home: string, extra: Record<string, string> = {}) {
    const env = Object.entries({
      NANOCLAW_HOME: home,
      NANOCLAW_HTTP_PORT: '0',
      NANOCLAW_RUNTIME: 'bwrap',
      NO_COLOR: '1',
      ...extra,
    })
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return running('script', ['-qefc', `env ${env} ${process.execPath} ${CLI} start`, '/dev/null'], {});
  }

  test('at the first question it stops the setup and the start', async () => {
    const home = freshHome();
    const t = onTerminal(home);
    try {
      await until(() => t.got.out.includes('Paste it here'), 15_000, 'the first question');
      t.child.stdin.write('\x03');
      expect(await t.exited()).toBe(130);
      expect(t.got.out).toContain('Setup stopped (Ctrl-C)');
      expect(t.got.out).not.toContain('2. Sandbox');
      expect(t.got.out).not.toContain('NanoClaw is running');
    } finally {
      t.child.kill('SIGKILL');
    }
  });

  test('while WhatsApp is linking it stops at once', async () => {
    const port = await closedPort();
    const t = onTerminal(freshHome(), { WHATSAPP_WS_URL: `ws://127.0.0.1:${port}/ws/chat` });
    try {
      await until(() => t.got.out.includes('Paste it here'), 15_000, 'the first question');
      t.child.stdin.write('\r');
      await until(() => t.got.out.includes('Telegram bot token'), 30_000, 'the Telegram question');
      t.child.stdin.write('\r');
      await until(() => t.got.out.includes('Link WhatsApp now?'), 15_000, 'the WhatsApp question');
      t.child.stdin.write('y\r');
      await until(() => t.got.out.includes('Cannot reach'), 15_000, 'the connection problem');
      t.child.stdin.write('\x03');
      expect(await t.exited()).toBe(130);
      expect(t.got.out).toContain('Setup stopped (Ctrl-C)');
      expect(t.got.out).not.toContain('NanoClaw is running');
    } finally {
      t.child.kill('SIGKILL');
    }
  });
});

test('guided setup saves the credential and a Telegram token, and can be skipped step by step', async () => {
  const home = freshHome();
  const answers = ['not-a-key', TEST_KEY, '', 'n'];
  const asked: string[] = [];
  const ask = {
    ask: async (q: string) => {
      asked.push(q);
      return answers.shift() ?? '';
    },
    secret: async (q: string) => {
      asked.push(q);
      return answers.shift() ?? '';
    },
    close: () => {},
  };
  const out = new PassThrough() as unknown as NodeJS.WriteStream;
  let text = '';
  (out as unknown as PassThrough).on('data', (d) => {
    text += d;
  });
  const model = await startFakeAnthropic();
  const base = { NANOCLAW_HOME: home, NANOCLAW_RUNTIME: 'bwrap', ANTHROPIC_BASE_URL: model.url };
  let config;
  try {
    config = await runSetup({ config: loadConfig(base, home), ask, out, env: base });
  } finally {
    await model.close();
  }
  expect(config.credential).toEqual({ kind: 'api-key', value: TEST_KEY });
  expect(text).toContain('does not look like an Anthropic API key');
  expect(text).toContain('Agents will run in bwrap');
  expect(text).not.toContain(TEST_KEY);
  expect(asked.some((q) => q.includes('Link WhatsApp'))).toBe(true);
  expect(fs.statSync(path.join(home, '.env')).mode & 0o777).toBe(0o600);
});

test('guided setup checks the Telegram token with getMe and asks again when Telegram refuses it', async () => {
  const home = freshHome();
  const good = '123456789:AAFakeTokenForTestsOnly_abcdefghijklmno';
  const telegram = await startFakeTelegram({ token: good });
  const answers = ['', '123456789:AAWrongTokenForTestsOnly_abcdefghijklmn', good, 'n'];
  const next = async () => answers.shift() ?? '';
  const out = new PassThrough() as unknown as NodeJS.WriteStream;
  let text = '';
  (out as unknown as PassThrough).on('data', (d) => {
    text += d;
  });
  const base = { NANOCLAW_HOME: home, NANOCLAW_RUNTIME: 'bwrap', TELEGRAM_API_ROOT: telegram.apiRoot };
  try {
    const config = await runSetup({
      config: loadConfig(base, home),
      ask: { ask: next, secret: next, close: () => {} },
      out,
      env: base,
    });
    expect(telegramSettings(config.env).token).toBe(good);
  } finally {
    await telegram.close();
  }
  expect(text).toContain('Telegram refused this token: copy it again from @BotFather');
  expect(text).toContain('Telegram bot token saved: this is @Andy_Test_Bot.');
});

test('`start` without a terminal skips the setup, runs, and `status` explains the missing credential', async () => {
  const home = freshHome();
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.tmpdir(),
    NO_COLOR: '1',
    NANOCLAW_HOME: home,
    NANOCLAW_CONFIG_DIR: path.join(home, 'cfg'),
    NANOCLAW_RUNTIME: 'bwrap',
    NANOCLAW_HTTP_PORT: '0',
  };
  const child = spawn(process.execPath, [CLI, 'start'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const exited = new Promise<number | null>((r) => child.on('close', r));
  try {
    await until(() => stdout.includes('NanoClaw is running') || child.exitCode !== null, 60_000, 'nanoclaw start');
    expect(stdout).not.toContain('Welcome');
    expect(stdout).not.toMatch(/#token=/);
    const res = await nanoclaw(['status'], { NANOCLAW_HOME: home });
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('No Anthropic credential');
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
});

test('image build shows the build progress and the tag, or why it failed', async () => {
  const home = freshHome();
  const bin = path.join(home, 'bin');
  fs.mkdirSync(bin);
  // A stand-in for the docker CLI at the process boundary: prints what a build prints.
  fs.writeFileSync(
    path.join(bin, 'docker'),
    '#!/bin/sh\necho "#5 [1/3] FROM node:22-slim"\necho "#6 [2/3] RUN npm ci"\necho "#7 [3/3] COPY runner /app/runner"\n[ -f "$(dirname "$0")/fail" ] && { echo "npm ERR! network" >&2; exit 1; }\nexit 0\n',
    { mode: 0o755 },
  );
  const env = { NANOCLAW_HOME: home, PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin` };
  const ok = await nanoclaw(['image', 'build', 'docker'], env);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain('[2/3] RUN npm ci');
  expect(ok.stdout).toMatch(/The agent image is ready: nanoclaw-agent-[0-9a-f]+:latest/);

  fs.writeFileSync(path.join(bin, 'fail'), '');
  const failed = await nanoclaw(['image', 'build', 'docker'], env);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toContain('The image build failed');
  expect(failed.stderr).toContain('npm ERR! network');

  const bwrap = await nanoclaw(['image', 'build', 'bwrap'], env);
  expect(bwrap.code).toBe(2);
  expect(bwrap.stderr).toContain('bwrap needs no image');
});
