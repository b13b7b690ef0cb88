// Telegram end to end against crabline's Bot API server (a third-party local
// provider server, long polling on 127.0.0.1): the real grammY channel started
// by the host from TELEGRAM_BOT_TOKEN / TELEGRAM_API_ROOT, the real sandbox and
// SDK, the fake model. What the user sees is counted at crabline's recorder.
//
// crabline's admin ingress injects text messages only (with entities): photos
// (getFile) and replies to a message (reply_to_message) are covered against
// the fake Bot API in channels-e2e.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { lastUserText } from '../support/fake-anthropic.js';
import { startCrabline, type Crabline, type Recorded } from '../support/crabline.js';
import { makeHome, startTestEnv, TEST_KEY, until, type TestEnv } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';

const GROUP = '-1001234567890';
const ALICE = 100001;
const LONG = Array.from({ length: 900 }, (_, i) => `word${i}`).join(' ');

let tg: Crabline;
let env: TestEnv;
let botUsername: string;
const dir = makeHome('nanoclaw-crabline-tg-');

/** The texts the bot sent to one chat that crabline accepted, as the user reads them (MarkdownV2 rendered). */
function sentTo(lines: Recorded[], chatId: string): string[] {
  return lines
    .filter(
      (l) =>
        l.type === 'api' && l.accepted && /\/sendMessage$/.test(l.path ?? '') && String(l.body?.chat_id) === chatId,
    )
    .map((l) => {
      const text = String(l.body?.text);
      return l.body?.parse_mode === 'MarkdownV2' ? text.replace(/\\([_*[\]()~`>#+\-=|{}.!\\])/g, '$1') : text;
    });
}

beforeAll(async () => {
  tg = await startCrabline('telegram', path.join(dir, 'crabline'));
  const me = (await (await fetch(`${tg.manifest.endpoints.apiRoot}/bot${tg.manifest.botToken}/getMe`)).json()) as any;
  botUsername = me.result.username;
  env = await startTestEnv({
    env: { TELEGRAM_BOT_TOKEN: tg.manifest.botToken, TELEGRAM_API_ROOT: tg.manifest.endpoints.apiRoot },
    script: (req) => {
      const text = lastUserText(req);
      if (text.includes('write a lot')) return { text: LONG };
      if (text.includes('hello in private')) return { text: 'Private answer.' };
      if (text.includes('mentioned you')) return { text: 'Answer to the mention.' };
      if (text.includes('triggered')) return { text: 'Group answer.' };
      return { text: 'Other answer.' };
    },
  });
  await until(
    () => env.host.channels.find((c) => c.name === 'telegram')?.isConnected() === true,
    20_000,
    'telegram connected',
  );
  for (const [jid, folder, requiresTrigger] of [
    [`tg:${GROUP}`, 'climbing', true],
    [`tg:${ALICE}`, 'alice', false],
  ] as const) {
    const res = await env.api('/api/groups', { method: 'POST', json: { jid, name: folder, folder, requiresTrigger } });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await env?.close();
  await tg?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a direct message is answered', async () => {
  await tg.inject({ chatId: String(ALICE), fromId: ALICE, fromName: 'Alice', text: 'hello in private' });
  const lines = await tg.untilRecorded((ls) => sentTo(ls, String(ALICE)).length >= 1, 90_000, 'the private answer');
  expect(sentTo(lines, String(ALICE))).toEqual(['Private answer.']);
  // Typing was shown while the agent worked.
  expect(
    lines.some(
      (l) =>
        /\/sendChatAction$/.test(l.path ?? '') &&
        String(l.body?.chat_id) === String(ALICE) &&
        l.body?.action === 'typing',
    ),
  ).toBe(true);
});

test('in a group an untriggered message is context; the trigger and an @mention are answered', async () => {
  await tg.inject({ chatId: GROUP, fromId: ALICE, fromName: 'Alice', text: 'the crag is wet today' });
  expect(await env.waitRouted((m) => m.text.includes('crag is wet'), 20_000)).toBe('stored');
  expect(sentTo(tg.recorded(), GROUP)).toEqual([]);

  await tg.inject({ chatId: GROUP, fromId: ALICE, fromName: 'Alice', text: '@Andy triggered: where do we go?' });
  await tg.untilRecorded((ls) => sentTo(ls, GROUP).length >= 1, 90_000, 'the group answer');
  const turn = env.fake.turnRequests().find((r) => lastUserText(r).includes('where do we go'))!;
  expect(lastUserText(turn)).toContain('the crag is wet today');

  const mention = `@${botUsername}`;
  await tg.inject({
    chatId: GROUP,
    fromId: ALICE,
    fromName: 'Alice',
    text: `${mention} I mentioned you`,
    entities: [{ type: 'mention', offset: 0, length: mention.length }],
  });
  const lines = await tg.untilRecorded((ls) => sentTo(ls, GROUP).length >= 2, 90_000, 'the answer to the mention');
  expect(sentTo(lines, GROUP)).toEqual(['Group answer.', 'Answer to the mention.']);
});

test('a long reply is split at the Bot API limit and arrives whole, in order', async () => {
  const before = sentTo(tg.recorded(), String(ALICE)).length;
  await tg.inject({ chatId: String(ALICE), fromId: ALICE, fromName: 'Alice', text: 'please write a lot' });
  const lines = await tg.untilRecorded(
    (ls) => sentTo(ls, String(ALICE)).slice(before).join(' ').length >= LONG.length,
    90_000,
    'the long reply',
  );
  const parts = sentTo(lines, String(ALICE)).slice(before);
  expect(parts.length).toBeGreaterThan(1);
  for (const p of parts) expect(p.length).toBeLessThanOrEqual(4096);
  expect(parts.join(' ').split(/\s+/)).toEqual(LONG.split(' '));
});

test('a stranger writing in private gets a pairing code and is not answered by the agent', async () => {
  const before = env.fake.turnRequests().length;
  await tg.inject({ chatId: '5555', fromId: 5555, fromName: 'Nora', text: 'hi, who are you?' });
  const lines = await tg.untilRecorded((ls) => sentTo(ls, '5555').length >= 1, 30_000, 'the pairing code');
  expect(sentTo(lines, '5555')[0]).toMatch(/code [A-Z0-9]{6}/);
  expect(env.fake.turnRequests().length).toBe(before);
});

let proc: HostProcess | null = null;
afterEach(async () => {
  await proc?.kill();
  proc = null;
});

test('a SIGKILL of the host mid-turn: after restart the answer is recorded exactly once', async () => {
  const entry = 'dist/test/support/crash-host.js';
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: build first (npx tsc -p tsconfig.json).`);
  const home = makeHome('nanoclaw-crabline-tg-crash-');
  const chat = '-1009876543210';
  env.fake.setScript((req) =>
    lastUserText(req).includes('what is the plan') ? { text: 'Here is the plan.' } : { text: 'unexpected' },
  );
  const hostEnv = (extra: Record<string, string> = {}) => ({
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: env.fake.url,
    NANOCLAW_RUNTIME: 'bwrap',
    IDLE_TIMEOUT: '1000',
    NANOCLAW_RETRY_BASE_MS: '200',
    NANOCLAW_CONFIG_DIR: path.join(home, '.config-nanoclaw'),
    TELEGRAM_BOT_TOKEN: tg.manifest.botToken,
    TELEGRAM_API_ROOT: tg.manifest.endpoints.apiRoot,
    ...extra,
  });
  try {
    // The test env's own host must not read this chat's updates: stop it for the crash run.
    await env.host.stop();
    proc = await startHostProcess(home, hostEnv(), entry);
    const res = await proc.api('/api/groups', {
      method: 'POST',
      json: { jid: `tg:${chat}`, name: 'Crash club', folder: 'crash', requiresTrigger: false },
    });
    expect(res.status).toBe(201);
    await proc.kill('SIGTERM');

    // Dies inside the write that stores the answer: the turn ran, nothing was sent.
    proc = await startHostProcess(home, hostEnv({ NANOCLAW_CRASH_ON: 'reply' }), entry);
    await tg.inject({ chatId: chat, fromId: ALICE, fromName: 'Alice', text: 'what is the plan?' });
    const crashed = proc;
    await until(
      () => crashed.child.signalCode !== null || crashed.child.exitCode !== null,
      90_000,
      'the host to crash mid-turn',
    );
    expect(crashed.child.signalCode, crashed.output()).toBe('SIGKILL');
    expect(sentTo(tg.recorded(), chat)).toEqual([]);

    proc = await startHostProcess(home, hostEnv(), entry);
    await proc.settled(90_000);
    const lines = await tg.untilRecorded((ls) => sentTo(ls, chat).length >= 1, 30_000, 'the answer after restart');
    expect(sentTo(lines, chat)).toEqual(['Here is the plan.']);
    // Nothing more is on its way: the outbox is empty and a second host start sends nothing again.
    await proc.kill('SIGTERM');
    proc = await startHostProcess(home, hostEnv(), entry);
    await proc.settled(30_000);
    expect(sentTo(tg.recorded(), chat)).toEqual(['Here is the plan.']);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
