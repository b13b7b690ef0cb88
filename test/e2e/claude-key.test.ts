// The Claude key as a person enters it: the guided setup (on a real terminal, through script(1)) tries it against
// the model API at once, refuses a key the API refuses and asks again, and says so when the API cannot be reached;
// a key fixed with `nanoclaw auth claude` while NanoClaw runs answers the next message, with no restart.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { projectRoot } from '../../src/core/config/project-root.js';
import { lastUserText, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { makeHome, until } from '../support/harness.js';
import { startHostProcess } from '../support/host-process.js';

const CLI = path.join(projectRoot(), 'dist/src/cli.js');
const GOOD = 'sk-ant-api03-good-key-for-tests-0123456789';
const BAD = 'sk-ant-api03-wrong-key-for-tests-987654321';

let fake: FakeAnthropic;
const homes: string[] = [];
function freshHome(): string {
  const h = makeHome('nanoclaw-key-');
  homes.push(h);
  return h;
}

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json).`);
  fake = await startFakeAnthropic((req) =>
    lastUserText(req).includes('are you back') ? { text: 'Back, with the new key.' } : undefined,
  );
  fake.requireKey(GOOD);
});
afterAll(async () => {
  await fake?.close();
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

const baseEnv = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), NO_COLOR: '1' });

/** `nanoclaw start` on a pseudo-terminal, so the guided setup runs and asks for the key. */
function startOnTerminal(home: string, baseUrl: string) {
  const env = Object.entries({
    NANOCLAW_HOME: home,
    NANOCLAW_HTTP_PORT: '0',
    NANOCLAW_RUNTIME: 'bwrap',
    ANTHROPIC_BASE_URL: baseUrl,
    NO_COLOR: '1',
  })
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const child = spawn('script', ['-qefc', `env ${env} ${process.execPath} ${CLI} start`, '/dev/null'], {
    env: baseEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  child.stdout.on('data', (d) => (screen += d));
  child.stderr.on('data', (d) => (screen += d));
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  return {
    screen: () => screen,
    type: (s: string) => child.stdin.write(s),
    /** Ctrl-C, as a person leaves the setup; bounded, so a stuck process fails the test. */
    async stop() {
      child.stdin.write('\x03');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await closed;
      clearTimeout(timer);
    },
  };
}

const env = (home: string) => fs.readFileSync(path.join(home, '.env'), 'utf8');
const count = (text: string, part: string) => text.split(part).length - 1;

test('the setup refuses a key the model API refuses, asks again, and saves the one it accepts', async () => {
  const home = freshHome();
  const t = startOnTerminal(home, fake.url);
  try {
    await until(() => t.screen().includes('Paste it here'), 30_000, 'the key question');
    t.type(`${BAD}\r`);
    await until(() => count(t.screen(), 'Paste it here') === 2, 30_000, 'the key question again');
    expect(t.screen()).toContain(`Not saved: ${fake.url} refused it (HTTP 401: invalid x-api-key)`);
    expect(t.screen()).not.toContain('2. Sandbox');
    expect(fs.existsSync(path.join(home, '.env'))).toBe(false);

    t.type(`${GOOD}\r`);
    await until(() => t.screen().includes('2. Sandbox'), 30_000, 'the next step');
    expect(t.screen()).toContain(
      'Saved as ANTHROPIC_API_KEY in .env (readable only by you); the model API accepts it.',
    );
    expect(env(home)).toContain(`ANTHROPIC_API_KEY=${GOOD}`);
    expect(env(home)).not.toContain(BAD);
    expect(t.screen()).not.toContain(GOOD);
    expect(t.screen()).not.toContain(BAD);
  } finally {
    await t.stop();
  }
});

test('the setup saves the key with a warning when the model API does not answer, and says which address', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  const home = freshHome();
  const t = startOnTerminal(home, `http://127.0.0.1:${port}`);
  try {
    await until(() => t.screen().includes('Paste it here'), 30_000, 'the key question');
    t.type(`${GOOD}\r`);
    await until(() => t.screen().includes('2. Sandbox'), 30_000, 'the next step');
    expect(t.screen()).toContain(
      `Saved as ANTHROPIC_API_KEY in .env (readable only by you), but could not check the key: http://127.0.0.1:${port} did not answer (ECONNREFUSED).`,
    );
    expect(env(home)).toContain(`ANTHROPIC_API_KEY=${GOOD}`);
  } finally {
    await t.stop();
  }
});

/** `nanoclaw auth claude` as its own process, the key piped in. */
function authClaude(home: string, key: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'auth', 'claude'], {
      env: { ...baseEnv(), NANOCLAW_HOME: home, ANTHROPIC_BASE_URL: fake.url },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(`${key}\n`);
  });
}

test('a running NanoClaw refused with a wrong key answers the next message once `auth claude` saves a good one', async () => {
  const home = freshHome();
  fs.writeFileSync(path.join(home, '.env'), `ANTHROPIC_API_KEY=${BAD}\n`, { mode: 0o600 });
  const host = await startHostProcess(home, { ANTHROPIC_BASE_URL: fake.url, NANOCLAW_RUNTIME: 'bwrap' });
  const replies = async () =>
    ((await (await host.api('/api/chats/local:main/messages')).json()) as { messages: any[] }).messages
      .filter((m) => m.fromAssistant)
      .map((m) => String(m.text));
  const send = async (text: string) => {
    const res = await host.api('/api/chats/local:main/messages', {
      method: 'POST',
      json: { sender: 'user-Sam', senderName: 'Sam', text },
    });
    expect(res.status).toBe(202);
  };
  try {
    await send('hello?');
    await until(async () => (await replies()).some((t) => /refused/.test(t)), 60_000, 'the refusal in the chat');
    expect((await replies()).find((t) => /refused/.test(t))).toContain('nanoclaw auth claude');

    const refusedAgain = await authClaude(home, BAD);
    expect(refusedAgain.code).toBe(1);
    expect(refusedAgain.out).toContain(`Not saved: ${fake.url} refused it (HTTP 401: invalid x-api-key)`);

    const fixed = await authClaude(home, GOOD);
    expect(fixed.code).toBe(0);
    expect(fixed.out).toContain('The running NanoClaw uses it from the next message; no restart needed.');
    expect(fixed.out).not.toContain(GOOD);

    const before = (await replies()).length;
    await send('are you back?');
    await until(
      async () => (await replies()).slice(before).includes('Back, with the new key.'),
      90_000,
      'the answer with the new key',
    );
    expect(host.child.exitCode).toBeNull();
    expect(host.output()).not.toContain(GOOD);
    expect(host.output()).not.toContain(BAD);
  } finally {
    await host.kill('SIGTERM');
  }
});
