// Slack end to end: the real Bolt app and Web API client against crabline's
// Slack provider server (Web API + Events API callbacks, signed) on 127.0.0.1,
// the real host started from the plugin's own settings, the real agent in a
// real sandbox, the fake model. Replies are counted at crabline's recorder,
// where a user would see them. Crabline serves no files, so a front before it
// (test/support/slack-files.ts) serves the one file and signs its file_share event.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lastUserText, startFakeAnthropic } from '../support/fake-anthropic.js';
import { startCrablineSlack, type Crabline, type Recorded } from '../support/crabline.js';
import { makeHome, startTestEnv, TEST_KEY, until, type TestEnv } from '../support/harness.js';
import { startHostProcess, undelivered, type HostProcess } from '../support/host-process.js';
import { freePort, postSlackEvent, startSlackFront, type SlackFront } from '../support/slack-files.js';
import { mediaStore } from '../../src/plugins/media/index.js';

const DM = 'D0ALICE01';
const CHANNEL = 'C0CLIMB01';
const ALICE = 'U0ALICE01';
const LONG = Array.from({ length: 900 }, (_, i) => `word${i}`).join(' ') + ' **the end**';

let env: TestEnv;
let slack: Crabline;
let front: SlackFront;
let eventsUrl: string;
const home = makeHome('nanoclaw-slack-');

const posts = (channel: string) =>
  slack
    .recorded()
    .filter((r: Recorded) => r.path === '/api/chat.postMessage' && r.accepted && r.body?.channel === channel)
    .map((r) => String(r.body.text));

async function untilPosts(channel: string, check: (texts: string[]) => boolean, what: string): Promise<string[]> {
  await slack.untilRecorded(() => check(posts(channel)), 60_000, what);
  return posts(channel);
}

beforeAll(async () => {
  const port = await freePort();
  eventsUrl = `http://127.0.0.1:${port}/slack/events`;
  slack = await startCrablineSlack(path.join(home, 'crabline'), { eventsUrl });
  front = await startSlackFront(slack.manifest.endpoints.apiRoot, slack.manifest.botToken);
  env = await startTestEnv({
    home,
    env: {
      SLACK_BOT_TOKEN: slack.manifest.botToken,
      SLACK_SIGNING_SECRET: slack.manifest.signingSecret,
      SLACK_API_URL: front.apiUrl,
      SLACK_EVENTS_PORT: String(port),
    },
    script: (req) => {
      const text = lastUserText(req);
      if (text.includes('hello from a dm'))
        return { text: 'Hello **Alice**, see [the guide](https://example.com/a?b=1&c=2).' };
      if (text.includes('what about ropes')) return { text: 'Ropes answer.' };
      if (text.includes('mention please')) return { text: 'Mention answer.' };
      if (text.includes('tell me more')) return { text: 'Thread answer.' };
      if (text.includes('a long one')) return { text: LONG };
      if (text.includes('look at this')) return { text: 'A lovely red square.' };
      return { text: 'Other answer.' };
    },
  });
  // A DM answers every message; the channel only when addressed.
  const dm = { jid: `sl:${DM}`, name: 'Alice', folder: 'alice', requiresTrigger: false };
  const channel = { jid: `sl:${CHANNEL}`, name: '#climbing', folder: 'climbing' };
  for (const json of [dm, channel]) expect((await env.api('/api/groups', { method: 'POST', json })).status).toBe(201);
});
afterAll(async () => {
  await env?.close();
  await front?.close();
  await slack?.stop();
});

test('a direct message is answered in the DM, in Slack mrkdwn', async () => {
  await slack.inject({ channel: DM, user: ALICE, text: 'hello from a dm' });
  const texts = await untilPosts(DM, (t) => t.length >= 1, 'the DM answer');
  expect(texts).toEqual(['Hello *Alice*, see <https://example.com/a?b=1&c=2|the guide>.']);
  const stored = await env.messages(`sl:${DM}`);
  expect(stored.find((m) => m.text === 'hello from a dm')?.sender).toBe(`sl:${ALICE}`);
});

test('in a channel an untriggered message is context; the trigger, an @mention and a reply in a bot thread are answered', async () => {
  await slack.inject({ channel: CHANNEL, user: ALICE, text: 'just chatting about ropes' });
  expect(await env.waitRouted((m) => m.text === 'just chatting about ropes', 20_000)).toBe('stored');

  await slack.inject({ channel: CHANNEL, user: ALICE, text: '@Andy what about ropes' });
  await untilPosts(CHANNEL, (t) => t.includes('Ropes answer.'), 'the triggered answer');
  expect(lastUserText(env.fake.turnRequests().at(-1)!)).toContain('just chatting about ropes');

  await slack.inject({ channel: CHANNEL, user: ALICE, text: '<@UCRABBOT> mention please' });
  await untilPosts(CHANNEL, (t) => t.includes('Mention answer.'), 'the mention answer');
  expect((await env.messages(`sl:${CHANNEL}`)).some((m) => m.text === '@Andy mention please')).toBe(true);

  // The bot's answer as Slack holds it, and a reply in its thread without trigger or mention.
  const history = await (
    await fetch(`${slack.manifest.endpoints.apiRoot}conversations.history?channel=${CHANNEL}`, {
      headers: { authorization: `Bearer ${slack.manifest.botToken}` },
    })
  ).json();
  const mine = history.messages.find((m: any) => m.text === 'Ropes answer.');
  await slack.inject({ channel: CHANNEL, user: ALICE, text: 'tell me more', threadTs: mine.ts });
  const texts = await untilPosts(CHANNEL, (t) => t.includes('Thread answer.'), 'the answer to the thread reply');
  expect(texts).toEqual(['Ropes answer.', 'Mention answer.', 'Thread answer.']);
});

test('a long reply is split below the Slack limit, in order, nothing lost', async () => {
  await slack.inject({ channel: DM, user: ALICE, text: 'a long one please' });
  const texts = await untilPosts(DM, (t) => t.some((x) => x.endsWith('*the end*')), 'the last piece');
  const pieces = texts.slice(1);
  expect(pieces.length).toBeGreaterThan(1);
  for (const p of pieces) expect(p.length).toBeLessThanOrEqual(4000);
  expect(pieces.join(' ')).toBe(LONG.replace('**the end**', '*the end*'));
});

// A 1x1 red PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

test('a photo is downloaded with the bot token into the group inbox and shown to the model', async () => {
  const file = front.addFile(PNG, { name: 'square.png', mimetype: 'image/png', filetype: 'png' });
  const status = await postSlackEvent(eventsUrl, slack.manifest.signingSecret, {
    type: 'message',
    subtype: 'file_share',
    channel: CHANNEL,
    channel_type: 'channel',
    user: ALICE,
    text: '@Andy look at this',
    ts: '1700001234.000100',
    files: [file],
  });
  expect(status).toBe(200);
  await untilPosts(CHANNEL, (t) => t.includes('A lovely red square.'), 'the photo answer');
  const inbox = path.join(home, 'groups', 'climbing', 'inbox');
  const files = fs.readdirSync(inbox);
  expect(files).toHaveLength(1);
  expect(files[0]).toMatch(/\.png$/);
  expect(fs.readFileSync(path.join(inbox, files[0]!))).toEqual(PNG);
  expect(front.downloads).toEqual([{ id: file.id, authorized: true }]);
  const req = env.fake.turnRequests().find((r) => r.text.includes('look at this'))!;
  const lastUser = req.body.messages.filter((m: any) => m.role === 'user').pop();
  expect(lastUser.content.find((c: any) => c.type === 'image')?.source?.data).toBe(PNG.toString('base64'));
  // Redelivery of the same event (Slack retries what it thinks was missed) is not stored or answered again.
  await postSlackEvent(eventsUrl, slack.manifest.signingSecret, {
    type: 'message',
    subtype: 'file_share',
    channel: CHANNEL,
    user: ALICE,
    text: '@Andy look at this',
    ts: '1700001234.000100',
    files: [file],
  });
  await until(
    () => env.host.queue.activeCount() === 0 && env.host.store.outbox.pending().length === 0,
    30_000,
    'the host to settle',
  );
  expect(posts(CHANNEL).filter((t) => t === 'A lovely red square.')).toHaveLength(1);
  expect(fs.readdirSync(inbox)).toHaveLength(1);
});

test('a stranger in a DM gets a pairing code and is not answered by the agent', async () => {
  const before = env.fake.turnRequests().length;
  await slack.inject({ channel: 'D0NORA001', user: 'U0NORA001', text: 'hi, who are you?' });
  const texts = await untilPosts('D0NORA001', (t) => t.length >= 1, 'the pairing code');
  expect(texts[0]).toMatch(/code [A-Z0-9]{6}/);
  expect(env.host.store.groups.get('sl:D0NORA001')).toBeUndefined();
  expect(env.fake.turnRequests().length).toBe(before);
});

test('an unsigned or wrongly signed event is refused', async () => {
  expect(
    await postSlackEvent(eventsUrl, 'not-the-secret', {
      type: 'message',
      channel: DM,
      user: ALICE,
      text: 'forged',
      ts: '1700009999.000100',
    }),
  ).toBe(401);
  expect((await env.messages(`sl:${DM}`)).some((m) => m.text === 'forged')).toBe(false);
});

test('a SIGKILL of the host mid-turn (inside the reply write): after restart the answer reaches Slack exactly once', async () => {
  const entry = 'dist/test/support/crash-host.js';
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: build first (npx tsc -p tsconfig.json).`);
  const crashHome = makeHome('nanoclaw-slack-crash-');
  const port = await freePort();
  const server = await startCrablineSlack(path.join(crashHome, 'crabline'), {
    eventsUrl: `http://127.0.0.1:${port}/slack/events`,
  });
  const fake = await startFakeAnthropic((req) =>
    lastUserText(req).includes('what is the plan') ? { text: 'Here is the plan.' } : { text: 'unexpected' },
  );
  const hostEnv = (extra: Record<string, string> = {}) => ({
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: fake.url,
    NANOCLAW_RUNTIME: 'bwrap',
    IDLE_TIMEOUT: '1000',
    NANOCLAW_RETRY_BASE_MS: '200',
    NANOCLAW_CONFIG_DIR: path.join(crashHome, '.config-nanoclaw'),
    SLACK_BOT_TOKEN: server.manifest.botToken,
    SLACK_SIGNING_SECRET: server.manifest.signingSecret,
    SLACK_API_URL: server.manifest.endpoints.apiRoot,
    SLACK_EVENTS_PORT: String(port),
    ...extra,
  });
  const replies = () =>
    server
      .recorded()
      .filter((r) => r.path === '/api/chat.postMessage' && r.accepted && r.body?.channel === CHANNEL)
      .map((r) => r.body.text);
  let host: HostProcess | null = null;
  try {
    host = await startHostProcess(crashHome, hostEnv(), entry);
    const res = await host.api('/api/groups', {
      method: 'POST',
      json: { jid: `sl:${CHANNEL}`, name: '#climbing', folder: 'climbing', requiresTrigger: false },
    });
    expect(res.status).toBe(201);
    await host.kill('SIGTERM');

    host = await startHostProcess(crashHome, hostEnv({ NANOCLAW_CRASH_ON: 'reply' }), entry);
    await server.inject({ channel: CHANNEL, user: ALICE, text: 'what is the plan?' });
    const h = host;
    await until(
      () => h.child.exitCode !== null || h.child.signalCode !== null,
      60_000,
      'the host to crash inside the reply write',
    );
    expect(h.child.signalCode, h.output()).toBe('SIGKILL');
    expect(replies()).toEqual([]);

    host = await startHostProcess(crashHome, hostEnv(), entry);
    await host.settled(90_000);
    await until(() => undelivered(crashHome) === 0, 30_000, 'the outbox to empty');
    expect(replies()).toEqual(['Here is the plan.']);
  } finally {
    await host?.kill();
    await fake.close();
    await server.stop();
    fs.rmSync(crashHome, { recursive: true, force: true });
  }
});

test("a 429 from chat.postMessage comes back as RateLimitedError with Slack's Retry-After", async () => {
  const dir = makeHome('nanoclaw-slack-429-');
  const server = await startCrablineSlack(dir, {
    eventsUrl: 'http://127.0.0.1:9/unused',
    chatPostMessageRateLimit: { remaining: 1, retryAfterSeconds: 7 },
  });
  const { createSlackChannel } = await import('../../src/plugins/slack/slack.js');
  const { RateLimitedError } = await import('../../src/core/types.js');
  const { silentLogger } = await import('../../src/core/logger.js');
  const ch = createSlackChannel({
    botToken: server.manifest.botToken,
    signingSecret: server.manifest.signingSecret,
    eventsPort: await freePort(),
    apiUrl: server.manifest.endpoints.apiRoot,
    assistantName: 'Andy',
    logger: silentLogger(),
    media: mediaStore(() => null),
  });
  try {
    await ch.connect({ onMessage() {}, onChat() {} });
    await ch.sendMessage(`sl:${CHANNEL}`, 'first');
    const err = await ch.sendMessage(`sl:${CHANNEL}`, 'second').catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retryAfterMs).toBe(7000);
    expect(
      server
        .recorded()
        .filter((r) => r.path === '/api/chat.postMessage' && r.accepted)
        .map((r) => r.body.text),
    ).toEqual(['first']);
  } finally {
    await ch.disconnect();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('nanoclaw auth slack checks the bot token with auth.test, saves both tokens 0600, and refuses a token Slack refuses', async () => {
  const { spawn } = await import('node:child_process');
  const authHome = makeHome('nanoclaw-slack-auth-');
  // Asynchronously: crabline answers auth.test from this very process.
  const run = (input: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['dist/src/cli.js', 'auth', 'slack'], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: authHome,
          NANOCLAW_HOME: authHome,
          SLACK_API_URL: slack.manifest.endpoints.apiRoot,
          NO_COLOR: '1',
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
      child.stdin.end(input);
    });
  try {
    const refused = await run('xoxb-not-the-right-token-at-all\nxapp-1-A0-1-abcdefabcdef\n');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('Slack refused this bot token (invalid_auth)');
    expect(fs.existsSync(path.join(authHome, '.env'))).toBe(false);

    const ok = await run(`${slack.manifest.botToken}\nxapp-1-A0-1-abcdefabcdef\n`);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('this is @crabline in Crabline');
    expect(ok.stdout).not.toContain(slack.manifest.botToken);
    const saved = fs.readFileSync(path.join(authHome, '.env'), 'utf8');
    expect(saved).toContain(`SLACK_BOT_TOKEN=${slack.manifest.botToken}`);
    expect(saved).toContain('SLACK_APP_TOKEN=xapp-1-A0-1-abcdefabcdef');
    expect(fs.statSync(path.join(authHome, '.env')).mode & 0o777).toBe(0o600);

    const noApp = await run(`${slack.manifest.botToken}\n`);
    expect(noApp.status).toBe(1);
    expect(noApp.stderr).toContain('app-level token (xapp-…)');
  } finally {
    fs.rmSync(authHome, { recursive: true, force: true });
  }
});
