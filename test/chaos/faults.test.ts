// Chaos: a sandbox killed mid-turn, an upstream that fails in every way, a
// channel that drops a send, a full disk and a read-only store. Each ends with
// an answer or a clear message in the chat — never silence, never a duplicate.
import { execFileSync, execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTelegramChannel } from '../../src/plugins/telegram/telegram.js';
import { silentLogger } from '../../src/core/logger.js';
import { selectRuntime } from '../../src/core/sandbox/runtimes.js';
import { RUNTIMES } from '../../src/plugins/index.js';
import type { SandboxProcess, SandboxRuntime, SandboxSpec } from '../../src/core/types.js';
import { lastUserText } from '../support/fake-anthropic.js';
import { groupChat, ALICE, startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { makeHome, startTestEnv, TEST_KEY, until, type TestEnv } from '../support/harness.js';
import { startHostProcess } from '../support/host-process.js';

let env: TestEnv;
let tg: FakeTelegram;
let script: (text: string, n: number) => any = () => undefined;
const calls = new Map<string, number>();
const TG_GROUP = groupChat('Ops', -1009990001);

// The sandboxes the host starts, by group folder, so a test can kill one from outside as a crash would.
const sandboxes = new Map<string, SandboxProcess>();

beforeAll(async () => {
  tg = await startFakeTelegram();
  const home = makeHome();
  const { runtime } = await selectRuntime('bwrap', { dataDir: path.join(home, 'data'), home, more: RUNTIMES });
  if (!runtime) throw new Error('bubblewrap is required for the chaos suite (apt-get install bubblewrap)');
  const recording: SandboxRuntime = Object.assign(Object.create(runtime), {
    start(spec: SandboxSpec) {
      const proc = runtime.start(spec);
      sandboxes.set(spec.groupFolder, proc);
      return proc;
    },
  });
  env = await startTestEnv({
    home,
    script: (req) => {
      const text = lastUserText(req);
      const key = (text.match(/case-\w+/) ?? ['other'])[0];
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      return script(text, n);
    },
    env: {
      IDLE_TIMEOUT: '200',
      NANOCLAW_RETRY_BASE_MS: '200',
      NANOCLAW_MAX_RETRIES: '3',
      // Let failures reach NanoClaw's own retry quickly instead of the CLI's long backoff.
      NANOCLAW_SANDBOX_ENV: JSON.stringify({ CLAUDE_CODE_MAX_RETRIES: '0', API_TIMEOUT_MS: '3000' }),
    },
    host: {
      runtime: recording,
      get channels() {
        return [
          createTelegramChannel({
            token: tg.token,
            apiRoot: tg.apiRoot,
            assistantName: 'Andy',
            logger: silentLogger(),
            pollingTimeoutSeconds: 1,
          }),
        ];
      },
    },
  });
}, 60_000);
afterAll(async () => {
  await env?.close();
  await tg?.close();
});

const replies = async (jid = 'local:main') =>
  (await env.messages(jid)).filter((m) => m.fromAssistant).map((m) => m.text as string);

async function ask(tag: string): Promise<string[]> {
  await until(() => env.host.agents.size === 0, 30_000, 'agents idle');
  const before = (await replies()).length;
  await env.send('local:main', `please handle ${tag}`);
  await until(async () => (await replies()).length > before, 90_000, `an answer for ${tag}`);
  await until(() => env.host.agents.size === 0 && env.host.queue.activeCount() === 0, 30_000, 'settled');
  await new Promise((r) => setTimeout(r, 500));
  return (await replies()).slice(before);
}

describe('the model upstream misbehaves', () => {
  test('a 500 once: retried, answered once', async () => {
    script = (t, n) =>
      t.includes('case-500') ? (n === 1 ? { status: 500 } : { text: 'Recovered from 500.' }) : undefined;
    expect(await ask('case-500')).toEqual(['Recovered from 500.']);
  });

  test('a timeout once: retried, answered once', async () => {
    script = (t, n) =>
      t.includes('case-hang') ? (n === 1 ? { hang: true } : { text: 'Recovered from a hang.' }) : undefined;
    expect(await ask('case-hang')).toEqual(['Recovered from a hang.']);
  });

  test('a malformed stream once: retried, answered once', async () => {
    script = (t, n) =>
      t.includes('case-malformed') ? (n === 1 ? { malformed: true } : { text: 'Recovered from garbage.' }) : undefined;
    expect(await ask('case-malformed')).toEqual(['Recovered from garbage.']);
  });

  test('529 overloaded every time: one clear message after the last try, nothing else', async () => {
    script = (t) => (t.includes('case-529') ? { status: 529 } : undefined);
    const got = await ask('case-529');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^⚠️ I couldn't answer: .*model API failed.*I tried 3 times.*send another message/s);
    // The message is still there, unanswered, for the next try.
    script = (t) => (t.includes('case-529') ? { text: 'Finally.' } : undefined);
    const again = await ask('case-529b');
    expect(again).toEqual(['Finally.']);
    const lastPrompt = lastUserText(
      env.fake
        .turnRequests()
        .filter((r) => r.text.includes('case-529b'))
        .pop()!,
    );
    expect(lastPrompt).toContain('please handle case-529');
  });
});

test('the sandbox is killed mid-turn: retried, answered once', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  script = async (t, n) => {
    if (!t.includes('case-killed')) return undefined;
    if (n === 1) {
      await gate;
      return { text: 'too late' };
    }
    return { text: 'Answered after the sandbox died.' };
  };
  const before = (await replies()).length;
  await env.send('local:main', 'please handle case-killed');
  await until(() => (calls.get('case-killed') ?? 0) >= 1, 60_000, 'the turn at the model');
  // SIGKILL from outside, as the OOM killer or a crash would: no chance to clean up.
  process.kill(sandboxes.get('main')!.pid!, 'SIGKILL');
  release();
  await until(async () => (await replies()).length > before, 90_000, 'the retried answer');
  await until(() => env.host.agents.size === 0, 30_000, 'settled');
  await new Promise((r) => setTimeout(r, 500));
  expect((await replies()).slice(before)).toEqual(['Answered after the sandbox died.']);
});

test('the channel drops a send: the reply is retried and arrives once', async () => {
  expect(
    (await env.api('/api/groups', { method: 'POST', json: { jid: `tg:${TG_GROUP.id}`, name: 'Ops', folder: 'ops' } }))
      .status,
  ).toBe(201);
  script = (t) => (t.includes('case-drop') ? { text: 'Delivered despite the drop.' } : undefined);
  tg.failNext('sendMessage', { error_code: 502, description: 'Bad Gateway' }, 2);
  tg.push({ chat: TG_GROUP, from: ALICE, text: '@Andy case-drop' });
  await until(() => tg.sent.some((m) => m.text === 'Delivered despite the drop.'), 60_000, 'the delivered reply');
  await new Promise((r) => setTimeout(r, 1000));
  expect(tg.sent.filter((m) => m.text === 'Delivered despite the drop.')).toHaveLength(1);
  expect(tg.callsTo('sendMessage').filter((c) => !c.ok).length).toBeGreaterThanOrEqual(1);
});

describe('storage trouble', () => {
  // These faults need a real mount; a run without one must fail, not pass quietly having skipped them.
  const requireMount = () => {
    try {
      execSync('mount --version', { stdio: 'ignore' });
    } catch {
      throw new Error('This test needs the mount command: apt-get install mount (.ci/run installs it).');
    }
    if (process.getuid?.() !== 0)
      throw new Error('This test mounts a small disk and a read-only store, which needs root (CI runs as root).');
  };

  test('a full groups/ disk: registering says the disk is full; answers still arrive, store intact', async () => {
    requireMount();
    // A small disk holding everything groups/ had, then filled up.
    const groups = path.join(env.home, 'groups');
    const copy = fs.mkdtempSync(path.join(env.home, 'groups-copy-'));
    execFileSync('cp', ['-a', `${groups}/.`, copy]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', groups]);
    execFileSync('cp', ['-a', `${copy}/.`, groups]);
    try {
      try {
        fs.writeFileSync(path.join(groups, 'filler'), Buffer.alloc(1024 * 1024));
      } catch {
        /* filled */
      }
      const res = await env.api('/api/groups', {
        method: 'POST',
        json: { jid: 'local:full', name: 'Full', folder: 'full' },
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toMatch(/disk holding groups\/ is full/);
      expect(env.host.store.groups.get('local:full')).toBeUndefined();
      script = (t) => (t.includes('case-full') ? { text: 'Answered with a full disk.' } : undefined);
      expect(await ask('case-full')).toEqual(['Answered with a full disk.']);
    } finally {
      execFileSync('umount', ['-l', groups]);
    }
    expect(env.host.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  test('a read-only store: start fails with a clear message; nothing is lost once it is writable again', async () => {
    requireMount();
    const home = makeHome('nanoclaw-ro-');
    const hostEnv = { ANTHROPIC_API_KEY: TEST_KEY, ANTHROPIC_BASE_URL: env.fake.url, NANOCLAW_RUNTIME: 'bwrap' };
    let h = await startHostProcess(home, hostEnv);
    await h.api('/api/groups', { method: 'POST', json: { jid: 'local:keep', name: 'Keep', folder: 'keep' } });
    await h.api('/api/chats/local%3Akeep/messages', { method: 'POST', json: { text: 'remember this one' } });
    await h.kill('SIGTERM');
    const store = path.join(home, 'store');
    execFileSync('mount', ['--bind', store, store]);
    execFileSync('mount', ['-o', 'remount,bind,ro', store]);
    try {
      await expect(startHostProcess(home, hostEnv)).rejects.toThrow(/store.* is read-only.*make it writable/s);
    } finally {
      execFileSync('umount', ['-l', store]);
    }
    h = await startHostProcess(home, hostEnv);
    const msgs = ((await (await h.api('/api/chats/local%3Akeep/messages')).json()) as any).messages;
    expect(msgs.map((m: any) => m.text)).toContain('remember this one');
    await h.kill('SIGTERM');
    const db = new Database(path.join(store, 'messages.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    fs.rmSync(home, { recursive: true, force: true });
  });
});
