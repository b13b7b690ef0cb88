// Signal end to end: the real Signal channel (JSON-RPC + SSE to a
// `signal-cli daemon --http`), the real host, a real sandbox and the fake model.
// Against crabline's Signal server (a third-party signal-cli compatible API):
// direct and group chats, splitting, pairing, a dropped event stream, a SIGKILL
// mid-turn; replies are counted at crabline's recorder. Crabline's ingress only
// carries text, a sender and a group id, so mentions, quotes (reply to the
// assistant) and attachments run against a minimal fake signal-cli
// (test/support/fake-signal-cli.ts) that sends signal-cli's own payload shapes.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inboxDirFor, mediaStore } from '../../src/plugins/media/index.js';
import { createSignalChannel } from '../../src/plugins/signal/signal.js';
import { silentLogger } from '../../src/core/logger.js';
import { startCrabline, type Crabline, type Recorded } from '../support/crabline.js';
import { lastUserText, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { startFakeSignalCli, type FakeSignalCli } from '../support/fake-signal-cli.js';
import { makeHome, startTestEnv, TEST_KEY, until, type TestEnv } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';

const ALICE = '+15551234567';
const OWNER = '+15557654321';
const GROUP = 'signal-group-1';
const DM_JID = `sig:${ALICE}`;
const GROUP_JID = `sig:g:${GROUP}`;

/** The `send` calls crabline accepted: what reached Signal. */
const sends = (lines: Recorded[]) =>
  lines
    .filter((l) => l.type === 'api' && l.body?.method === 'send' && l.accepted)
    .map((l) => l.body.params as Record<string, any>);

/** Answers each turn with the nonces (n-…) of its last user turn, so each reply says which messages it saw. */
function nonceScript(text: string) {
  if (text.includes('write a long answer'))
    return { text: `${'A'.repeat(1500)}\n\n${'B'.repeat(1500)}\n\n${'C'.repeat(1500)}` };
  const nonces = [...new Set(text.match(/n-[a-z0-9]+/g) ?? [])];
  return { text: nonces.length ? `Seen ${nonces.join(' ')}.` : 'Hello from Andy.' };
}

/** An HTTP relay in front of the daemon that can cut the event stream and refuse it for a while. */
async function startCutRelay(upstream: string) {
  const target = new URL(upstream);
  const open = new Set<{ down: http.ServerResponse; up: http.ClientRequest }>();
  let refusing = false;
  let refused = 0;
  const server = http.createServer((req, res) => {
    const isEvents = req.url?.startsWith('/api/v1/events');
    if (isEvents && refusing) {
      refused++;
      res.writeHead(503).end('down');
      return;
    }
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: target.host },
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
    if (isEvents) {
      const pair = { down: res, up };
      open.add(pair);
      res.on('close', () => open.delete(pair));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Drops every open event stream, both ways, and refuses new ones until resume(). */
    cut() {
      refusing = true;
      for (const { down, up } of open) {
        up.destroy();
        down.destroy();
      }
    },
    resume: () => (refusing = false),
    refused: () => refused,
    streams: () => open.size,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('against crabline serve signal', () => {
  let crab: Crabline;
  let relay: Awaited<ReturnType<typeof startCutRelay>>;
  let env: TestEnv;
  const dir = makeHome('nanoclaw-crabline-signal-');

  beforeAll(async () => {
    crab = await startCrabline('signal', dir);
    relay = await startCutRelay(crab.manifest.endpoints.apiRoot);
    env = await startTestEnv({
      script: (req) => nonceScript(lastUserText(req)),
      env: { SIGNAL_CLI_URL: relay.url, SIGNAL_ACCOUNT: crab.manifest.account, SIGNAL_OWNER: OWNER },
    });
    for (const json of [
      { jid: DM_JID, name: 'Alice', folder: 'alice', requiresTrigger: false },
      { jid: GROUP_JID, name: 'Signal club', folder: 'sigclub' },
    ]) {
      expect((await env.api('/api/groups', { method: 'POST', json })).status).toBe(201);
    }
    await until(() => relay.streams() > 0, 10_000, 'the host to open the event stream');
  });
  afterAll(async () => {
    await env?.close();
    await relay?.close();
    await crab?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const repliesWith = (nonce: string) => sends(crab.recorded()).filter((p) => String(p.message).includes(nonce));

  test('a direct message is answered in the direct chat', async () => {
    await crab.inject({ sourceNumber: ALICE, sourceName: 'Alice', text: 'hi there n-dm1' });
    const lines = await crab.untilRecorded(
      (l) => sends(l).some((p) => String(p.message).includes('n-dm1')),
      60_000,
      'the DM reply',
    );
    const reply = sends(lines).find((p) => String(p.message).includes('n-dm1'))!;
    expect(reply).toMatchObject({ recipient: ALICE, message: 'Seen n-dm1.' });
    expect(reply.groupId).toBeUndefined();
    // Typing was shown while the agent worked.
    expect(lines.some((l) => l.body?.method === 'sendTyping' && l.body.params.recipient === ALICE)).toBe(true);
    const stored = await env.messages(DM_JID);
    expect(stored.find((m) => m.text === 'hi there n-dm1')).toMatchObject({ senderName: 'Alice', sender: DM_JID });
  });

  test('in a group an untriggered message is kept as context; a triggered one is answered with it', async () => {
    await crab.inject({ groupId: GROUP, sourceNumber: ALICE, sourceName: 'Alice', text: 'context only n-ctx1' });
    expect(await env.waitRouted((m) => m.text.includes('n-ctx1'), 10_000)).toBe('stored');
    await crab.inject({
      groupId: GROUP,
      sourceNumber: ALICE,
      sourceName: 'Alice',
      text: '@Andy what did I say? n-trig1',
    });
    await crab.untilRecorded(
      (l) => sends(l).some((p) => String(p.message).includes('n-trig1')),
      60_000,
      'the group reply',
    );
    const [reply] = repliesWith('n-trig1');
    expect(reply).toMatchObject({ groupId: GROUP });
    // The context message was part of the catch-up the model saw.
    expect(reply!.message).toContain('n-ctx1');
    expect(repliesWith('n-ctx1')).toHaveLength(1);
  });

  test('a long reply is split into pieces Signal takes, in order', async () => {
    const before = sends(crab.recorded()).length;
    await crab.inject({ sourceNumber: ALICE, sourceName: 'Alice', text: 'please write a long answer' });
    const lines = await crab.untilRecorded((l) => sends(l).length >= before + 3, 60_000, 'three pieces');
    const pieces = sends(lines)
      .slice(before)
      .map((p) => String(p.message));
    expect(pieces).toEqual(['A'.repeat(1500), 'B'.repeat(1500), 'C'.repeat(1500)]);
  });

  test('a stranger in a direct chat gets a pairing code', async () => {
    const stranger = '+15559990000';
    await crab.inject({ sourceNumber: stranger, sourceName: 'Nora', text: 'hello, who are you?' });
    const lines = await crab.untilRecorded(
      (l) => sends(l).some((p) => p.recipient === stranger),
      30_000,
      'the pairing code',
    );
    expect(String(sends(lines).find((p) => p.recipient === stranger)!.message)).toMatch(/code [A-Z0-9]{6}/);
    expect(env.host.store.groups.get(`sig:${stranger}`)).toBeUndefined();
    expect(env.fake.turnRequests().some((r) => lastUserText(r).includes('who are you'))).toBe(false);
  });

  test('the event stream dropping and reconnecting loses and duplicates nothing', async () => {
    await crab.inject({ sourceNumber: ALICE, sourceName: 'Alice', text: 'before the drop n-pre' });
    await crab.untilRecorded(
      (l) => sends(l).some((p) => String(p.message).includes('n-pre')),
      60_000,
      'the first reply',
    );
    const refusedBefore = relay.refused();
    relay.cut();
    // The channel noticed and is trying again; messages sent now wait at the daemon.
    await until(() => relay.refused() > refusedBefore, 10_000, 'a reconnect attempt');
    await crab.inject({ sourceNumber: ALICE, sourceName: 'Alice', text: 'while down n-down1' });
    await crab.inject({ sourceNumber: ALICE, sourceName: 'Alice', text: 'while down n-down2' });
    relay.resume();
    await crab.untilRecorded(
      (l) => ['n-down1', 'n-down2'].every((n) => sends(l).some((p) => String(p.message).includes(n))),
      60_000,
      'replies to what was sent while the stream was down',
    );
    await until(
      () => env.host.queue.activeCount() === 0 && env.host.store.outbox.pending().length === 0,
      30_000,
      'the host to settle',
    );
    for (const n of ['n-pre', 'n-down1', 'n-down2']) expect(repliesWith(n), n).toHaveLength(1);
    const stored = (await env.messages(DM_JID)).filter((m) => !m.fromAssistant).map((m) => m.text);
    for (const t of ['before the drop n-pre', 'while down n-down1', 'while down n-down2'])
      expect(
        stored.filter((s) => s === t),
        t,
      ).toHaveLength(1);
  });
});

describe('a SIGKILL of the host mid-turn, against crabline', () => {
  const ENTRY = 'dist/test/support/crash-host.js';
  const CRASH_GROUP = 'signal-crash-group';
  let crab: Crabline;
  let fake: FakeAnthropic;
  let host: HostProcess | null = null;
  const dir = makeHome('nanoclaw-crabline-signal-crash-');
  const home = makeHome('nanoclaw-signal-crash-home-');

  beforeAll(async () => {
    if (!fs.existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: build first (npx tsc -p tsconfig.json).`);
    crab = await startCrabline('signal', dir);
    fake = await startFakeAnthropic((req) =>
      lastUserText(req).includes('what is the plan') ? { text: 'Here is the plan.' } : { text: 'unexpected' },
    );
  });
  afterAll(async () => {
    await host?.kill();
    await crab?.stop();
    await fake?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  const envFor = (extra: Record<string, string> = {}) => ({
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: fake.url,
    NANOCLAW_RUNTIME: 'bwrap',
    IDLE_TIMEOUT: '1000',
    NANOCLAW_RETRY_BASE_MS: '200',
    NANOCLAW_CONFIG_DIR: path.join(home, '.config-nanoclaw'),
    SIGNAL_CLI_URL: crab.manifest.endpoints.apiRoot,
    SIGNAL_ACCOUNT: crab.manifest.account,
    ...extra,
  });
  const streams = () =>
    crab.recorded().filter((l) => l.type === 'api' && l.method === 'GET' && l.path === '/api/v1/events').length;

  test('the answer reaches Signal exactly once after the host dies inside the reply write', async () => {
    host = await startHostProcess(home, envFor(), ENTRY);
    const res = await host.api('/api/groups', {
      method: 'POST',
      json: { jid: `sig:g:${CRASH_GROUP}`, name: 'Crash club', folder: 'crash', requiresTrigger: false },
    });
    expect(res.status).toBe(201);
    await host.kill('SIGTERM');

    const opened = streams();
    host = await startHostProcess(home, envFor({ NANOCLAW_CRASH_ON: 'reply' }), ENTRY);
    await until(() => streams() > opened, 10_000, 'the host to listen');
    await crab.inject({ groupId: CRASH_GROUP, sourceNumber: ALICE, sourceName: 'Alice', text: 'what is the plan?' });
    const h = host;
    await until(() => h.child.exitCode !== null || h.child.signalCode !== null, 60_000, 'the host to crash mid-turn');
    expect(h.child.signalCode, h.output()).toBe('SIGKILL');
    expect(sends(crab.recorded())).toEqual([]);

    host = await startHostProcess(home, envFor(), ENTRY);
    await host.settled(90_000);
    expect(sends(crab.recorded()).map((p) => [p.groupId, p.message])).toEqual([[CRASH_GROUP, 'Here is the plan.']]);
  });
});

// A 1x1 red PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

describe('mentions, quotes and attachments, against a fake signal-cli', () => {
  let sig: FakeSignalCli;
  let env: TestEnv;
  let ts = Date.now();

  /** A group message from Alice, in signal-cli's receive shape. */
  const groupMessage = (dataMessage: Record<string, unknown>) => {
    const timestamp = ++ts;
    return {
      source: ALICE,
      sourceNumber: ALICE,
      sourceUuid: '0d2b3c4e-1111-4222-8333-944455556666',
      sourceName: 'Alice',
      sourceDevice: 1,
      timestamp,
      serverReceivedTimestamp: timestamp + 5,
      serverDeliveredTimestamp: timestamp + 9,
      dataMessage: {
        timestamp,
        expiresInSeconds: 0,
        viewOnce: false,
        groupInfo: { groupId: GROUP, groupName: 'Signal club', revision: 3, type: 'DELIVER' },
        ...dataMessage,
      },
    };
  };
  const sentWith = (text: string) => sig.sent().filter((p) => p.message.includes(text));

  beforeAll(async () => {
    sig = await startFakeSignalCli();
    env = await startTestEnv({
      script: (req) => {
        const text = lastUserText(req);
        if (text.includes('look at this')) return { text: 'A lovely red square.' };
        if (text.includes('mention test')) return { text: 'You mentioned me.' };
        if (text.includes('tell me more')) return { text: 'More, as you asked.' };
        return { text: 'Other answer.' };
      },
      host: {
        get channels() {
          return [
            createSignalChannel({
              url: sig.url,
              account: sig.account,
              sharesUserAccount: false,
              assistantName: 'Andy',
              logger: silentLogger(),
              media: mediaStore((jid) =>
                env ? inboxDirFor({ store: env.host.store, paths: env.host.paths }, jid) : null,
              ),
            }),
          ];
        },
      },
    });
    expect(
      (
        await env.api('/api/groups', {
          method: 'POST',
          json: { jid: GROUP_JID, name: 'Signal club', folder: 'sigclub' },
        })
      ).status,
    ).toBe(201);
    await sig.streaming();
  });
  afterAll(async () => {
    await env?.close();
    await sig?.close();
  });

  test('an @mention of the account in the middle of a message calls the assistant', async () => {
    sig.push(
      groupMessage({
        message: 'hey \uFFFC, mention test',
        mentions: [
          { name: sig.account, number: sig.account, uuid: '9a8b7c6d-0000-4000-8000-000000000001', start: 4, length: 1 },
        ],
      }),
    );
    await until(() => sentWith('You mentioned me.').length === 1, 60_000, 'the answer to the mention');
    expect(sentWith('You mentioned me.')[0]).toMatchObject({ groupId: GROUP });
    // The placeholder is written out as the assistant's name.
    expect((await env.messages(GROUP_JID)).some((m) => m.text === 'hey @Andy, mention test')).toBe(true);
  });

  test("a reply (quote) to one of the assistant's messages calls it without the trigger", async () => {
    const mine = sig.sent()[0]!;
    sig.push(
      groupMessage({
        message: 'tell me more',
        quote: {
          id: 1700000000000,
          author: sig.account,
          authorNumber: sig.account,
          authorUuid: '9a8b7c6d-0000-4000-8000-000000000001',
          text: mine.message,
          attachments: [],
        },
      }),
    );
    await until(() => sentWith('More, as you asked.').length === 1, 60_000, 'the answer to the reply');
    const stored = (await env.messages(GROUP_JID)).find((m) => m.text === 'tell me more');
    expect(stored).toBeDefined();
  });

  test('a photo lands in inbox/ and is shown to the model', async () => {
    sig.addAttachment('Zx1AbC.png', PNG);
    const before = env.fake.turnRequests().length;
    sig.push(
      groupMessage({
        message: '@Andy look at this',
        attachments: [
          {
            contentType: 'image/png',
            filename: null,
            id: 'Zx1AbC.png',
            size: PNG.length,
            width: 1,
            height: 1,
            caption: null,
            uploadTimestamp: ts,
          },
        ],
      }),
    );
    await until(() => sentWith('A lovely red square.').length === 1, 60_000, 'the photo answer');
    const inbox = path.join(env.home, 'groups', 'sigclub', 'inbox');
    const files = fs.readdirSync(inbox);
    expect(files).toHaveLength(1);
    expect(fs.readFileSync(path.join(inbox, files[0]!))).toEqual(PNG);
    expect(sig.calls.find((c) => c.method === 'getAttachment')?.params).toMatchObject({
      id: 'Zx1AbC.png',
      groupId: GROUP,
    });
    const req = env.fake
      .turnRequests()
      .slice(before)
      .find((r) => r.text.includes('look at this'))!;
    expect(req.text).toContain(`/workspace/group/inbox/${files[0]}`);
  });

  test('an untriggered group message without mention or quote is only stored', async () => {
    sig.push(groupMessage({ message: 'just chatting, andy is not addressed' }));
    expect(await env.waitRouted((m) => m.text.includes('just chatting'), 10_000)).toBe('stored');
  });
});
