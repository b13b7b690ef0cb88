// Crash safety at the worst moments, counted where a user would see a
// duplicate or a gap: messages at the fake Telegram Bot API and at the Baileys
// socket boundary. The host runs as its own process and SIGKILLs itself at an
// exact point (test/support/crash-host.ts), then restarts.
//
// What is promised: a send the platform has acknowledged is marked delivered
// before the host waits on anything else, so a crash after that point never
// sends it again (a crash while the request is still in flight can: that send
// is at least once). A reply and the cursor move are one transaction, so a crash
// inside it neither loses the answer nor gives it twice.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { openStore } from '../../src/host.js';
import { lastUserText, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { groupChat, ALICE, startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { startCrabline, startCrablineSlack } from '../support/crabline.js';
import { makeHome, TEST_KEY, until } from '../support/harness.js';
import { startHostProcess, undelivered, type HostProcess } from '../support/host-process.js';
import { freePort } from '../support/slack-files.js';

const ENTRY = 'dist/test/support/crash-host.js';
const TG_CHAT = groupChat('Climbing club', -1001234567890);
const WA_GROUP = '120363025246125888@g.us';

let tg: FakeTelegram;
let fake: FakeAnthropic;
let host: HostProcess | null = null;
const homes: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: build first (npx tsc -p tsconfig.json).`);
  tg = await startFakeTelegram();
  fake = await startFakeAnthropic();
});
afterEach(async () => {
  await host?.kill();
  host = null;
});
afterAll(async () => {
  await tg?.close();
  await fake?.close();
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

function newHome(): string {
  const home = makeHome('nanoclaw-crashpoint-');
  homes.push(home);
  return home;
}

const envFor = (home: string, extra: Record<string, string> = {}) => ({
  ANTHROPIC_API_KEY: TEST_KEY,
  ANTHROPIC_BASE_URL: fake.url,
  NANOCLAW_RUNTIME: 'bwrap',
  IDLE_TIMEOUT: '1000',
  NANOCLAW_RETRY_BASE_MS: '200',
  NANOCLAW_CONFIG_DIR: path.join(home, '.config-nanoclaw'),
  TELEGRAM_BOT_TOKEN: tg.token,
  TELEGRAM_API_ROOT: tg.apiRoot,
  ...(process.env.NANOCLAW_TEST_LOG ? { NANOCLAW_TEST_LOG: '1' } : {}),
  ...extra,
});

/** Waits for a host that is set to crash to have done so. */
async function crashed(h: HostProcess): Promise<void> {
  await until(
    () => h.child.exitCode !== null || h.child.signalCode !== null,
    60_000,
    'the host to crash at the injected point',
  ).catch((err) => {
    throw new Error(
      `${err.message}; model calls: ${fake.turnRequests().length}; sent: ${tg.sent.length}; host said: ${h.output().slice(-2000)}`,
    );
  });
  expect(h.child.signalCode, h.output()).toBe('SIGKILL');
}

const waSent = (log: string): string[] =>
  (fs.existsSync(log)
    ? fs
        .readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : []
  )
    .filter((m: { jid: string }) => m.jid === WA_GROUP)
    .map((m: { text: string }) => m.text);
const tgSent = () => tg.sent.filter((m) => m.chatId === TG_CHAT.id).map((m) => m.text);

test('a SIGKILL right after each platform acknowledgement sends nothing twice, on Telegram and WhatsApp', async () => {
  const home = newHome();
  const log = path.join(home, 'wa-sent.jsonl');
  fs.mkdirSync(path.join(home, 'store'), { recursive: true, mode: 0o700 });
  const store = openStore(path.join(home, 'store', 'messages.db'));
  const texts = ['one', 'two', 'three'];
  for (const t of texts) {
    store.outbox.enqueue(`tg:${TG_CHAT.id}`, `tg ${t}`);
    store.outbox.enqueue(WA_GROUP, `wa ${t}`);
  }
  store.close();
  tg.sent.length = 0;

  // Each run dies just after the first send it gets acknowledged (sends that need
  // no waiting, like the fake socket's, may fit in before). A run that makes no
  // progress resends the same item, so at most one run per item.
  for (let run = 0; run < texts.length * 2 && undelivered(home) > 0; run++) {
    host = await startHostProcess(
      home,
      envFor(home, { NANOCLAW_CRASH_AFTER_ACK: '1', NANOCLAW_WA_SENT_LOG: log }),
      ENTRY,
    );
    await crashed(host);
  }
  host = await startHostProcess(home, envFor(home, { NANOCLAW_WA_SENT_LOG: log }), ENTRY);
  await until(() => undelivered(home) === 0, 30_000, 'the outbox to empty');

  expect(tgSent()).toEqual(texts.map((t) => `tg ${t}`));
  // WhatsApp shares the user's account, so replies say who is talking.
  expect(waSent(log)).toEqual(texts.map((t) => `Andy: wa ${t}`));
});

for (const point of ['reply', 'cursor'] as const) {
  test(`a SIGKILL inside the ${point} write of a turn: after restart the answer reaches Telegram exactly once`, async () => {
    const home = newHome();
    tg.sent.length = 0;
    fake.setScript((req) =>
      lastUserText(req).includes('what is the plan') ? { text: 'Here is the plan.' } : { text: 'unexpected' },
    );
    host = await startHostProcess(home, envFor(home), ENTRY);
    const res = await host.api('/api/groups', {
      method: 'POST',
      json: { jid: `tg:${TG_CHAT.id}`, name: 'Climbing club', folder: 'climbing', requiresTrigger: false },
    });
    expect(res.status).toBe(201);
    await host.kill('SIGTERM');

    host = await startHostProcess(home, envFor(home, { NANOCLAW_CRASH_ON: point }), ENTRY);
    tg.push({ chat: TG_CHAT, from: ALICE, text: 'what is the plan?' });
    await crashed(host);
    expect(tgSent()).toEqual([]);

    host = await startHostProcess(home, envFor(home), ENTRY);
    // Recovery queues the unanswered chat before the host reports it is up.
    await host.settled(90_000);
    expect(tgSent()).toEqual(['Here is the plan.']);
  });
}

test('a SIGKILL between Discord taking a reply and the outbox knowing: each reply reaches Discord once', async () => {
  const home = newHome();
  const crab = await startCrabline('discord', path.join(home, 'crabline'));
  try {
    const { channelId } = crab.manifest.fixture;
    fs.mkdirSync(path.join(home, 'store'), { recursive: true, mode: 0o700 });
    const store = openStore(path.join(home, 'store', 'messages.db'));
    const texts = ['dc one', 'dc two', 'dc three'];
    for (const t of texts) store.outbox.enqueue(`dc:${channelId}`, t);
    store.close();
    const dcEnv = envFor(home, {
      TELEGRAM_BOT_TOKEN: '',
      DISCORD_BOT_TOKEN: crab.manifest.botToken,
      DISCORD_API_URL: crab.manifest.endpoints.apiRoot,
    });
    const posts = () =>
      crab
        .recorded()
        .filter((l) => l.type === 'api' && l.method === 'POST' && l.accepted)
        .filter((l) => l.path === `/api/v10/channels/${channelId}/messages`)
        .map((l) => String(l.body?.content ?? ''));

    // Each run dies the moment crabline's answer reaches the channel: the message is posted, the outbox
    // still says "in flight". The next run must find it there instead of posting it again.
    for (let run = 0; run < texts.length * 2 && undelivered(home) > 0; run++) {
      host = await startHostProcess(home, { ...dcEnv, NANOCLAW_CRASH_BEFORE_MARK: '1' }, ENTRY);
      await crashed(host);
    }
    host = await startHostProcess(home, dcEnv, ENTRY);
    await until(() => undelivered(home) === 0, 30_000, 'the outbox to empty');
    expect(posts()).toEqual(texts);
  } finally {
    await host?.kill();
    host = null;
    await crab.stop();
  }
});

test('a SIGKILL between Slack taking a reply and the outbox knowing: each reply reaches Slack once', async () => {
  const home = newHome();
  const port = await freePort();
  const eventsUrl = `http://127.0.0.1:${port}/slack/events`;
  const slack = await startCrablineSlack(path.join(home, 'crabline'), { eventsUrl });
  const channel = 'C0CLIMB01';
  try {
    // Makes the channel exist at crabline (the host is not up yet to receive the event).
    await slack.inject({ channel, user: 'U0ALICE01', text: 'hello' }).catch(() => {});
    fs.mkdirSync(path.join(home, 'store'), { recursive: true, mode: 0o700 });
    const store = openStore(path.join(home, 'store', 'messages.db'));
    const texts = ['sl one', 'sl two', 'sl three'];
    for (const t of texts) store.outbox.enqueue(`sl:${channel}`, t);
    store.close();
    const slEnv = envFor(home, {
      TELEGRAM_BOT_TOKEN: '',
      SLACK_BOT_TOKEN: slack.manifest.botToken,
      SLACK_SIGNING_SECRET: slack.manifest.signingSecret,
      SLACK_API_URL: slack.manifest.endpoints.apiRoot,
      SLACK_EVENTS_PORT: String(port),
    });
    const posts = () =>
      slack
        .recorded()
        .filter((r) => r.path === '/api/chat.postMessage' && r.accepted && r.body?.channel === channel)
        .map((r) => String(r.body.text));

    for (let run = 0; run < texts.length * 2 && undelivered(home) > 0; run++) {
      host = await startHostProcess(home, { ...slEnv, NANOCLAW_CRASH_BEFORE_MARK: '1' }, ENTRY);
      await crashed(host);
    }
    host = await startHostProcess(home, slEnv, ENTRY);
    await until(() => undelivered(home) === 0, 30_000, 'the outbox to empty');
    expect(posts()).toEqual(texts);
  } finally {
    await host?.kill();
    host = null;
    await slack.stop();
  }
});

test('a SIGKILL between WhatsApp taking a reply and the outbox knowing: the resend keeps its message id', async () => {
  const home = newHome();
  const log = path.join(home, 'wa-sent.jsonl');
  fs.mkdirSync(path.join(home, 'store'), { recursive: true, mode: 0o700 });
  const store = openStore(path.join(home, 'store', 'messages.db'));
  const texts = ['wa one', 'wa two', 'wa three'];
  for (const t of texts) store.outbox.enqueue(WA_GROUP, t);
  store.close();
  const waEnv = envFor(home, { TELEGRAM_BOT_TOKEN: '', NANOCLAW_WA_SENT_LOG: log });
  for (let run = 0; run < texts.length * 2 && undelivered(home) > 0; run++) {
    host = await startHostProcess(home, { ...waEnv, NANOCLAW_CRASH_BEFORE_MARK: '1' }, ENTRY);
    await crashed(host);
  }
  host = await startHostProcess(home, waEnv, ENTRY);
  await until(() => undelivered(home) === 0, 30_000, 'the outbox to empty');
  // No history to look in: the item goes again, under the id it had; a phone shows one message per id.
  const sends = fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { jid: string; text: string; id?: string });
  const byId = new Map<string, Set<string>>();
  for (const s of sends) byId.set(s.id ?? '', (byId.get(s.id ?? '') ?? new Set()).add(s.text));
  expect(sends.length).toBeGreaterThan(texts.length);
  expect([...byId.values()].map((t) => [...t])).toEqual(texts.map((t) => [`Andy: ${t}`]));
});
