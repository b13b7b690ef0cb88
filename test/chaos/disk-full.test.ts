// A chat's agent fills the disk under the whole assistant (a small tmpfs home,
// `dd` from the Bash tool). The host keeps answering its API and the main chat,
// the owner hears which chat did it, that chat does not run again (not even
// after a restart) until space is freed, and no accepted message is lost.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

let env: TestEnv;
let mnt: string;
let home: string;

const script = (req: RecordedRequest) => {
  if (!Array.isArray(req.body?.tools) || req.body.tools.length === 0) return { text: 'OK' };
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: `dd finished: ${text.slice(0, 200)}` };
  // The catch-up prompt repeats unanswered messages: the newest one is the request.
  const tag = [...text.matchAll(/case-[\w-]+/g)].pop()?.[0] ?? 'nothing';
  if (tag === 'case-fill')
    return {
      toolUse: {
        name: 'Bash',
        input: { command: 'dd if=/dev/zero of=big bs=1M count=200', description: 'fill the disk' },
      },
    };
  return { text: `answered ${tag}` };
};

beforeAll(async () => {
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-diskfull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt]);
  home = path.join(mnt, 'home');
  fs.mkdirSync(home);
  env = await startTestEnv({
    home,
    script,
    env: { NANOCLAW_DISK_RESERVE_MB: '8', IDLE_TIMEOUT: '500', NANOCLAW_MAX_RETRIES: '2' },
    // The real log file, on the disk that fills up.
    host: { logger: createLogger({ level: 'debug', logsDir: path.join(home, 'logs') }) },
  });
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:evil', name: 'Evil', folder: 'evil', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await env?.close();
  execFileSync('umount', ['-l', mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

const replies = async (jid: string) =>
  (await env.messages(jid)).filter((m) => m.fromAssistant).map((m) => m.text as string);
const modelSaw = (tag: string) => env.fake.turnRequests().some((r) => r.text.includes(tag));
const healthy = async () => (await fetch(`${env.host.url}/healthz`)).status === 200;

async function askMain(tag: string): Promise<void> {
  await env.send('local:main', `please handle ${tag}`);
  await until(
    async () => (await replies('local:main')).some((t) => t === `answered ${tag}`),
    90_000,
    `main's answer for ${tag}`,
  );
}

test('a chat that fills the disk is stopped and held until space is freed; everything else keeps working', async () => {
  await env.send('local:evil', 'please case-fill');
  // The owner hears which chat filled the disk.
  await until(
    async () => (await replies('local:main')).some((t) => /"Evil" \(local:evil\) filled the disk/.test(t)),
    90_000,
    'the owner told',
  );
  const told = (await replies('local:main')).find((t) => /filled the disk/.test(t))!;
  expect(told).toContain(`delete files in ${path.join(home, 'groups', 'evil')}/`);
  await until(() => env.host.agents.size === 0, 30_000, 'agents idle');
  expect(fs.statfsSync(home).bavail).toBeLessThan(4096);
  expect(await healthy()).toBe(true);

  // The main chat still gets its answer on the full disk.
  await askMain('case-main-1');

  // The hostile chat is refused before its agent starts, with a clear reason, once.
  const before = (await replies('local:evil')).length;
  await env.send('local:evil', 'again case-evil-2');
  await until(async () => (await replies('local:evil')).length > before, 30_000, 'the refusal');
  const refusal = (await replies('local:evil')).slice(before);
  expect(refusal).toHaveLength(1);
  expect(refusal[0]).toMatch(
    /couldn't answer: the disk is nearly full .*grew by \d+ MB; it will not run until space is freed/,
  );
  expect(modelSaw('case-evil-2')).toBe(false);
  await until(() => env.host.queue.activeCount() === 0 && env.host.queue.waitingCount() === 0, 10_000, 'queue idle');

  // A restart does not replay the hostile turn into the full disk; the main chat still answers.
  await env.restart();
  expect(await healthy()).toBe(true);
  await askMain('case-main-2');
  await until(() => env.host.queue.activeCount() === 0, 10_000, 'queue idle after restart');
  expect(modelSaw('case-evil-2')).toBe(false);

  // The owner frees space: the chat runs again, and its waiting message is answered.
  fs.rmSync(path.join(home, 'groups', 'evil', 'big'));
  await env.send('local:evil', 'now case-evil-3');
  await until(
    async () => (await replies('local:evil')).some((t) => t === 'answered case-evil-3'),
    90_000,
    'evil answered after space was freed',
  ).catch(async (err) => {
    throw new Error(`${err.message}; evil got: ${(await replies('local:evil')).join(' | ')}`);
  });
  const prompt = lastUserText(
    env.fake
      .turnRequests()
      .filter((r) => r.text.includes('case-evil-3'))
      .pop()!,
  );
  expect(prompt).toContain('again case-evil-2');
  // The store is whole, with every accepted message.
  expect(env.host.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  const texts = (await env.messages('local:evil')).map((m) => m.text);
  expect(texts).toEqual(expect.arrayContaining(['please case-fill', 'again case-evil-2', 'now case-evil-3']));
});

test('a chat over its folder quota is held before its next turn; the owner is told; it runs again once files are deleted', async () => {
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:family', name: 'Family', folder: 'family', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
  const patch = await env.api('/api/groups/local%3Afamily', { method: 'PATCH', json: { sandbox: { diskQuotaMb: 1 } } });
  expect(patch.status).toBe(200);
  await env.send('local:family', 'please case-fill');
  await until(
    async () =>
      (await replies('local:main')).some((t) =>
        /"Family" \(local:family\): its folder groups\/family\/ holds \d+ MB, over its 1 MB quota/.test(t),
      ),
    60_000,
    'the owner told about the quota',
  );
  const told = (await replies('local:main')).find((t) => /over its 1 MB quota/.test(t))!;
  expect(told).toContain(`delete files in ${path.join(home, 'groups', 'family')}/`);
  await until(() => env.host.agents.size === 0, 30_000, 'agents idle');

  const before = (await replies('local:family')).length;
  await env.send('local:family', 'hello case-fam-2');
  await until(async () => (await replies('local:family')).length > before, 30_000, 'the refusal');
  const refusal = (await replies('local:family')).slice(before);
  expect(refusal).toHaveLength(1);
  expect(refusal[0]).toMatch(
    /couldn't answer: this chat's folder holds \d+ MB, over its 1 MB quota; it will not run until the owner frees space/,
  );
  expect(modelSaw('case-fam-2')).toBe(false);
  // Other chats are not held.
  await askMain('case-main-3');

  fs.rmSync(path.join(home, 'groups', 'family', 'big'));
  await env.send('local:family', 'and case-fam-3');
  await until(
    async () => (await replies('local:family')).some((t) => t === 'answered case-fam-3'),
    90_000,
    'family answered after files were deleted',
  );
  expect(
    lastUserText(
      env.fake
        .turnRequests()
        .filter((r) => r.text.includes('case-fam-3'))
        .pop()!,
    ),
  ).toContain('hello case-fam-2');
});
