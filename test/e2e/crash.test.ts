// Crash safety: the host is killed (SIGKILL) while an agent is mid-turn. After a
// restart the message is answered exactly once, and never again after that.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { lastUserText, startFakeAnthropic } from '../support/fake-anthropic.js';
import { makeHome, TEST_KEY, until } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';

const home = makeHome();
let host: HostProcess | null = null;
const fake = await startFakeAnthropic();
afterAll(async () => {
  await host?.kill();
  await fake.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const env = {
  ANTHROPIC_API_KEY: TEST_KEY,
  ANTHROPIC_BASE_URL: fake.url,
  NANOCLAW_RUNTIME: 'bwrap',
  IDLE_TIMEOUT: '1000',
};
const replies = async (h: HostProcess) =>
  ((await (await h.api('/api/chats/local%3Amain/messages')).json()) as any).messages.filter(
    (m: any) => m.fromAssistant,
  );
const sandboxesOf = (pid: number) => {
  try {
    return execFileSync('pgrep', ['-P', String(pid), 'bwrap'])
      .toString()
      .trim();
  } catch {
    return '';
  }
};

test('SIGKILL mid-turn: after restart the message is answered exactly once', async () => {
  let killed = false;
  fake.setScript(() => (killed ? { text: 'Here is your answer.' } : { hang: true }));
  host = await startHostProcess(home, env);
  const res = await host.api('/api/chats/local%3Amain/messages', {
    method: 'POST',
    json: { sender: 'me', senderName: 'Me', text: 'please answer me' },
  });
  expect(res.status).toBe(202);
  await until(
    () => fake.turnRequests().some((r) => lastUserText(r).includes('please answer me')),
    60_000,
    'the turn to reach the model',
  );
  const pid = host.child.pid!;
  expect(sandboxesOf(pid)).not.toBe('');
  await host.kill('SIGKILL');
  killed = true;
  // --die-with-parent: the sandbox does not outlive the host.
  await until(
    () => {
      try {
        execFileSync('pgrep', ['-f', `${home}/data/sockets`]);
        return false;
      } catch {
        return true;
      }
    },
    10_000,
    'the sandbox to die',
  );

  host = await startHostProcess(home, env);
  await until(async () => (await replies(host!)).length >= 1, 60_000, 'the answer after restart');
  // Nothing left running, queued or undelivered: no second answer can still be coming.
  await host.settled();
  expect((await replies(host)).map((m: any) => m.text)).toEqual(['Here is your answer.']);
  const asked = fake.turnRequests().length;

  // Another restart answers nothing twice: recovery runs before the host reports it is up.
  await host.kill('SIGTERM');
  host = await startHostProcess(home, env);
  await host.settled();
  expect(fake.turnRequests().length).toBe(asked);
  expect((await replies(host)).length).toBe(1);
  const integrity = (await import('better-sqlite3'))
    .default(`${home}/store/messages.db`, { readonly: true })
    .pragma('integrity_check', { simple: true });
  expect(integrity).toBe('ok');
});
