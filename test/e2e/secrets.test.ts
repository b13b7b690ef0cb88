// The credential stays on the host: the upstream request carries it, and
// nothing the agent can see inside its sandbox does.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText } from '../support/fake-anthropic.js';
import { makeHome, startTestEnv, TEST_KEY, until, type TestEnv } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';
import { openBrowser } from '../support/browser.js';

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

// No secret on any screen: every secret kind is planted in .env, every channel
// is pointed at a closed port so it fails, and then everything a user can see
// (each CLI command, each GET API answer, each dashboard page) and every file in
// the home but .env and store/auth is scanned for each secret.
describe('no secret on any screen', () => {
  const CLI = path.resolve('dist/src/cli.js');
  const SECRETS: Record<string, string> = {
    TELEGRAM_BOT_TOKEN: '7012345678:AAHoneyTelegramSecret_0123456789abcdef',
    DISCORD_BOT_TOKEN: 'MTAxHoneyDiscordSecret.GhJkLm.0123456789abcdefghij',
    SLACK_BOT_TOKEN: 'xoxb-1234-HoneySlackBotSecret-abcdef',
    SLACK_APP_TOKEN: 'xapp-1-HoneySlackAppSecret-0123456789',
    SLACK_SIGNING_SECRET: 'HoneySlackSigningSecret0123456789ab',
    ANTHROPIC_API_KEY: 'sk-ant-api03-HoneyAnthropicKey-0123456789',
    CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-HoneyOauthToken-0123456789',
    NANOCLAW_STT_KEY: 'sk-HoneyTranscriptionKey-0123456789abcdef',
  };
  const LATER = '7012345679:AAHoneyLaterTelegramSecret_0123456789ab';
  let home: string;
  let host: HostProcess;
  let closed: string;
  const seen: { where: string; text: string }[] = [];

  function nanoclaw(args: string[], input = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NANOCLAW_HOME: home, NO_COLOR: '1', TZ: 'UTC' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', () => resolve(out));
      child.stdin.end(input);
    });
  }

  function leaks(): string[] {
    const found: string[] = [];
    for (const { where, text } of seen) {
      for (const [name, value] of [...Object.entries(SECRETS), ['LATER_TELEGRAM_BOT_TOKEN', LATER]]) {
        // The token's secret half alone is still the secret.
        for (const piece of [value, value.split(':').pop()!])
          if (text.includes(piece)) found.push(`${name} in ${where}`);
      }
    }
    return [...new Set(found)];
  }

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json).`);
    home = makeHome('nanoclaw-secrets-');
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closed = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
    await new Promise<void>((r) => srv.close(() => r()));
    const settings = {
      ...SECRETS,
      TELEGRAM_API_ROOT: closed,
      DISCORD_API_URL: closed,
      SLACK_API_URL: `${closed}/api/`,
      SIGNAL_CLI_URL: closed,
      SIGNAL_ACCOUNT: '+15550000001',
      ANTHROPIC_BASE_URL: closed,
      NANOCLAW_STT_URL: closed,
      NANOCLAW_RUNTIME: 'bwrap',
      NANOCLAW_CONFIG_DIR: path.join(home, 'cfg'),
    };
    const dotenv = Object.entries(settings).map(([k, v]) => `${k}=${v}\n`);
    fs.writeFileSync(path.join(home, '.env'), dotenv.join(''), { mode: 0o600 });
    host = await startHostProcess(home, { NANOCLAW_CONFIG_DIR: settings.NANOCLAW_CONFIG_DIR, LOG_LEVEL: 'debug' });
    // Each channel has tried and failed (or is still trying) before anything is looked at.
    await until(
      async () => {
        const s = (await (await host.api('/api/status')).json()) as { channels: { name: string; detail?: string }[] };
        const failed = s.channels.filter((c) => c.name !== 'local' && c.detail);
        return ['telegram', 'discord', 'slack', 'signal'].every((n) => failed.some((c) => c.name === n));
      },
      60_000,
      'every channel to report its failure',
    );
  });
  afterAll(async () => {
    await host?.kill('SIGTERM');
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  test('the planted secrets are really in use', () => {
    const dotenv = fs.readFileSync(path.join(home, '.env'), 'utf8');
    for (const value of Object.values(SECRETS)) expect(dotenv).toContain(value);
  });

  test('every CLI command, API answer, dashboard page and file in the home is free of secrets', async () => {
    // A token set later, through `nanoclaw auth`, is one more secret to keep off screens.
    seen.push({ where: 'nanoclaw auth telegram', text: await nanoclaw(['auth', 'telegram'], LATER + '\n') });
    for (const args of [
      ['status'],
      ['doctor'],
      ['doctor', '--all'],
      ['doctor', '--json'],
      ['logs', '--lines', '1000'],
      ['logs', '--level', 'debug', '--lines', '1000'],
      ['groups', 'list'],
      ['tasks', 'list'],
      ['pairing', 'list'],
      ['approvals'],
      ['forget', '--opt-outs'],
      ['forget', '--receipts'],
    ]) {
      seen.push({ where: `nanoclaw ${args.join(' ')}`, text: await nanoclaw(args) });
    }
    const status = (await (await host.api('/api/status')).json()) as { channels: { name: string; detail?: string }[] };
    expect(status.channels.find((c) => c.name === 'telegram')?.detail).toContain(
      'Could not reach the Telegram Bot API',
    );
    for (const p of [
      '/healthz',
      '/api/status',
      '/api/groups',
      '/api/errors',
      '/api/tasks',
      '/api/usage',
      '/api/pairing',
      '/api/approvals',
      '/api/forget/receipts',
      '/api/forget/opt-outs',
      `/api/chats/${encodeURIComponent('local:main')}/messages`,
      '/api/channels/whatsapp/link',
    ]) {
      const res = await host.api(p);
      seen.push({ where: `GET ${p}`, text: `${res.status} ${await res.text()}` });
    }

    const browser = await openBrowser();
    try {
      const { page } = browser;
      // Every answer the dashboard fetched is read whole; the streams never end, so what they show is read from
      // the page instead.
      const stream = /\/api\/(events|logs|chats\/[^/]+\/tools)\b/;
      const reading = new Set<Promise<unknown>>();
      page.on('response', (res) => {
        if (stream.test(res.url())) return;
        const read = res.text().then(
          (t) => seen.push({ where: `dashboard fetch ${res.url()}`, text: t }),
          () => {},
        );
        reading.add(read);
        void read.finally(() => reading.delete(read));
      });
      const inFlight = new Set<unknown>();
      page.on('request', (r) => void (stream.test(r.url()) || inFlight.add(r)));
      page.on('requestfinished', (r) => void inFlight.delete(r));
      page.on('requestfailed', (r) => void inFlight.delete(r));
      await page.goto(`${host.url}/#token=${encodeURIComponent(host.token)}`);
      for (const tab of ['chat', 'groups', 'tasks', 'approvals', 'activity', 'usage', 'logs', 'channels']) {
        await page.click(`#tabs a[data-page="${tab}"]`);
        await page.waitForSelector(`#page-${tab}`);
        await until(() => inFlight.size === 0 && reading.size === 0, 10_000, `the ${tab} page to load`);
        seen.push({ where: `dashboard ${tab}`, text: (await page.content()) + (await page.innerText('body')) });
      }
      // The Channels card shows the failure, in words.
      await page.waitForSelector('text=Could not reach the Telegram Bot API');
    } finally {
      await browser.close();
    }

    await host.kill('SIGTERM');
    seen.push({ where: 'the host process output', text: host.output() });
    const onPurpose = [path.join(home, '.env'), path.join(home, 'store', 'auth')];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (onPurpose.some((o) => p === o || p.startsWith(o + path.sep))) continue;
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) seen.push({ where: path.relative(home, p), text: fs.readFileSync(p).toString('latin1') });
      }
    };
    walk(home);
    // The log really has the failures in it, so the scan looked at something.
    expect(fs.readFileSync(path.join(home, 'logs', 'nanoclaw.log'), 'utf8')).toContain('telegram');
    expect(leaks()).toEqual([]);
  });
});
