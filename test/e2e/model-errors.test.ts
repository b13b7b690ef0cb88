// When the model cannot answer: a refused credential is told at once, in full,
// with the fix, and never retried; an overloaded upstream is retried, and the
// chat hears that its answer is delayed before it arrives; an upstream that never
// answers is named in the chat once, and the kept message is answered once it does. Real host, sandbox
// and SDK CLI; the fake Anthropic API refuses or fails as the real one would.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lastUserText } from '../support/fake-anthropic.js';
import { makeHome, startTestEnv, until, type TestEnv } from '../support/harness.js';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv({
    env: {
      IDLE_TIMEOUT: '300',
      NANOCLAW_RETRY_BASE_MS: '300',
      NANOCLAW_MAX_RETRIES: '5',
      NANOCLAW_DELAY_NOTICE_MS: '1500',
      NANOCLAW_MODEL_SILENCE_MS: '2000',
      NANOCLAW_SANDBOX_ENV: JSON.stringify({ CLAUDE_CODE_MAX_RETRIES: '1', API_TIMEOUT_MS: '5000' }),
    },
  });
}, 60_000);
afterAll(async () => {
  await env?.close();
});

const modelCalls = () => env.fake.requests.filter((r) => r.path.startsWith('/v1/messages')).length;
const said = (ms: any[], re: RegExp) => ms.filter((m) => m.fromAssistant && re.test(m.text));
const status = async () => (await (await env.api('/api/status')).json()) as any;

describe('a credential the model API refuses (401)', () => {
  test('a group chat and the owner are told at once, with the fix; the refused key is not sent again and again', async () => {
    env.fake.refuse(401);
    expect(
      (await env.api('/api/groups', { method: 'POST', json: { jid: 'local:ops', name: 'Ops', folder: 'ops' } })).status,
    ).toBe(201);
    const before = modelCalls();
    await env.send('local:ops', '@Andy are you there?');
    const ops = await env.untilChat(
      'local:ops',
      (ms) => said(ms, /couldn't answer/).length > 0,
      30_000,
      'the refusal in the chat',
    );
    const [told] = said(ops, /couldn't answer/);
    expect(told.text).toContain('refused');
    expect(told.text).toContain('ANTHROPIC_API_KEY');
    expect(told.text).toContain('nanoclaw auth claude');
    expect(told.text).toContain('invalid x-api-key');
    expect(said(ops, /./)).toHaveLength(1);
    const main = await env.untilChat('local:main', (ms) => said(ms, /refused/).length > 0, 10_000, 'the owner notice');
    expect(said(main, /refused/)[0].text).toContain('nanoclaw auth claude');
    // Once refused, the key is not sent again: one call went out, maybe two in flight at once.
    expect(modelCalls() - before).toBeLessThanOrEqual(2);

    const s = await status();
    expect(s.lastError.message).toMatch(/refused.*ANTHROPIC_API_KEY.*HTTP 401.*nanoclaw auth claude/);
    expect(s.modelError).toMatchObject({ kind: 'auth', status: 401 });
  });

  test('the main chat asking again hears it again at once, with no call to the upstream', async () => {
    await env.untilChat('local:main', () => env.host.agents.size === 0, 10_000, 'agents gone');
    const before = modelCalls();
    const seen = said(await env.messages('local:main'), /couldn't answer/).length;
    await env.send('local:main', 'hello?');
    const ms = await env.untilChat(
      'local:main',
      (m) => said(m, /couldn't answer/).length > seen,
      30_000,
      'the refusal in main',
    );
    expect(said(ms, /couldn't answer/).pop().text).toMatch(/ANTHROPIC_API_KEY.*nanoclaw auth claude/s);
    expect(modelCalls()).toBe(before);
  });

  test('with the key fixed, the kept messages are answered and the error clears', async () => {
    env.fake.refuse(null);
    await env.restart();
    env.fake.setScript((req) => (lastUserText(req).includes('fixed now') ? { text: 'Working again.' } : undefined));
    await env.send('local:main', 'fixed now?');
    await env.untilChat('local:main', (ms) => said(ms, /Working again/).length > 0, 60_000, 'the answer');
    const s = await status();
    expect(s.modelError).toBeNull();
    expect(s.lastError?.message ?? '').not.toMatch(/refused NanoClaw's credential, ANTHROPIC_API_KEY \(HTTP 401/);
  });
});

describe('an overloaded model API (529)', () => {
  test('the chat hears that the answer is delayed and why, then gets the answer once the API recovers', async () => {
    let recovered = false;
    env.fake.setScript((req) => {
      if (!lastUserText(req).includes('busy day')) return undefined;
      return recovered ? { text: 'Sorry for the wait: here it is.' } : { status: 529 };
    });
    await env.send('local:main', 'a busy day today?');
    const ms = await env.untilChat('local:main', (m) => said(m, /delayed/).length > 0, 30_000, 'the delay notice');
    expect(said(ms, /delayed/)[0].text).toMatch(/overloaded.*HTTP 529/);
    expect((await status()).modelError).toMatchObject({ kind: 'unavailable', status: 529 });
    recovered = true;
    await env.untilChat('local:main', (m) => said(m, /here it is/).length > 0, 60_000, 'the answer after the delay');
    expect((await status()).modelError).toBeNull();
  });
});

describe('an upstream that accepts the call and never answers (issue 22)', () => {
  test('the chat hears it once, naming the address; the kept message is answered once when it answers', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const held = () => env.fake.requests.filter((r) => lastUserText(r).includes('anyone home')).length;
    env.fake.setScript((req) =>
      lastUserText(req).includes('anyone home') ? released.then(() => ({ text: 'Here at last.' })) : undefined,
    );
    await env.send('local:main', 'anyone home?');
    const notice = new RegExp(`not answering at ${env.fake.url.replace(/\./g, '\\.')} .*fix ANTHROPIC_BASE_URL`);
    await env.untilChat('local:main', (m) => said(m, notice).length > 0, 30_000, 'the silence notice');
    const s = await status();
    expect(s.modelError).toMatchObject({ kind: 'unavailable', status: null });
    expect(s.modelError.message).toContain(`not answering at ${env.fake.url}`);
    expect(s.lastError.message).toContain('not answering');

    // The SDK times out (API_TIMEOUT_MS) and tries again, still unanswered: no second notice.
    await until(() => held() >= 2, 30_000, 'a second try');
    await new Promise((r) => setTimeout(r, 2500));
    release();
    await env.untilChat('local:main', (m) => said(m, /Here at last/).length > 0, 60_000, 'the answer');
    await new Promise((r) => setTimeout(r, 1500));
    const ms = await env.messages('local:main');
    expect(said(ms, /Here at last/)).toHaveLength(1);
    expect(said(ms, notice)).toHaveLength(1);
    expect((await status()).modelError).toBeNull();
  });
});

describe('the command line checks the model with the configured key', () => {
  const CLI = path.resolve('dist/src/cli.js');
  const cliEnv = (home: string) => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.tmpdir(),
    NO_COLOR: '1',
    NANOCLAW_HOME: home,
    NANOCLAW_CONFIG_DIR: path.join(home, 'cfg'),
    NANOCLAW_RUNTIME: 'bwrap',
    NANOCLAW_HTTP_PORT: '0',
    ANTHROPIC_BASE_URL: env.fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-refused-key-0000',
  });

  test('doctor fails on a refused key, naming the variable and the fix', async () => {
    env.fake.refuse(401);
    const home = makeHome('nanoclaw-doctor-');
    try {
      const child = spawn(process.execPath, [CLI, 'doctor'], { env: cliEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      const code = await new Promise<number | null>((r) => child.on('close', r));
      expect(stdout).toMatch(
        /✗ Model API\s+http:\/\/127\.0\.0\.1:\d+ refused ANTHROPIC_API_KEY \(HTTP 401: invalid x-api-key\)/,
      );
      expect(stdout).toContain('nanoclaw auth claude');
      expect(stdout).not.toContain('sk-ant-refused-key-0000');
      expect(code).toBe(1);
    } finally {
      env.fake.refuse(null);
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  test('start checks the model once and prints what it found', async () => {
    const run = async (refuse: 401 | null): Promise<string> => {
      env.fake.refuse(refuse);
      const home = makeHome('nanoclaw-start-');
      const child = spawn(process.execPath, [CLI, 'start'], { env: cliEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      const exited = new Promise<number | null>((r) => child.on('close', r));
      try {
        await until(() => /Model API/.test(stdout) || child.exitCode !== null, 30_000, 'the model check at start');
        return stdout;
      } finally {
        child.kill('SIGTERM');
        await exited;
        fs.rmSync(home, { recursive: true, force: true });
      }
    };
    expect(await run(401)).toMatch(
      /! Model API: .*refused ANTHROPIC_API_KEY \(HTTP 401: invalid x-api-key\).*nanoclaw auth claude/,
    );
    const before = env.fake.requests.filter((r) => r.path === '/v1/messages/count_tokens').length;
    expect(await run(null)).toMatch(/✓ Model API: .*answers and accepts ANTHROPIC_API_KEY/);
    expect(env.fake.requests.filter((r) => r.path === '/v1/messages/count_tokens').length).toBe(before + 1);
  });
});
