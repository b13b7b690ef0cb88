// Discord end to end: the real discord.js client of the real host, against
// crabline's Discord provider server (REST v10 + Gateway) on 127.0.0.1, with
// the real agent in a real sandbox and the fake model. Every reply is counted
// where a user would see it: in crabline's recorder.
//
// What crabline lacks: its admin ingress takes JSON only, so a *person's*
// message cannot carry a file. The photo is posted instead by crabline's second
// bot account through the real multipart upload, and reaches our bot as a
// normal MESSAGE_CREATE with an attachment URL on the provider server.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createDiscordChannel } from '../../src/plugins/discord/discord.js';
import { silentLogger } from '../../src/core/logger.js';
import { RateLimitedError } from '../../src/core/types.js';
import { lastUserText, startFakeAnthropic } from '../support/fake-anthropic.js';
import { startCrabline, type Crabline, type Recorded } from '../support/crabline.js';
import { makeHome, startTestEnv, TEST_KEY, until, type TestEnv } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';
import { mediaStore } from '../../src/plugins/media/index.js';

const ALICE = { senderId: '135000000000000012', senderName: 'Alice' };
const NORA = { senderId: '135000000000000077', senderName: 'Nora Newcomer' };
const LONG = Array.from({ length: 60 }, (_, i) => `Line ${i}: ${'word '.repeat(12)}`).join('\n');
const LONG_REPLY = `Here is the list.\n\n\`\`\`text\n${LONG}\n\`\`\`\nThat is all.`;

let crab: Crabline;
let env: TestEnv;
const home = makeHome();
let guild: string;
let channel: string;
let bot: string;

/** The DM channel id Discord (and crabline) gives a bot and a user: stable for the pair. */
function dmChannelId(botId: string, userId: string): string {
  const digest = crypto.createHash('sha256').update([botId, userId].sort().join(':')).digest('hex');
  return (100000000000000000n + (BigInt(`0x${digest.slice(0, 16)}`) % 900000000000000000n)).toString();
}

/** What the bot posted to a channel, as the provider server recorded it. */
const postsTo = (lines: Recorded[], channelId: string): string[] =>
  lines
    .filter(
      (l) =>
        l.type === 'api' && l.method === 'POST' && l.path === `/api/v10/channels/${channelId}/messages` && l.accepted,
    )
    .map((l) => String(l.body?.content ?? ''));

async function untilPosts(channelId: string, check: (posts: string[]) => boolean, what: string): Promise<string[]> {
  const lines = await crab.untilRecorded((ls) => check(postsTo(ls, channelId)), 90_000, what);
  return postsTo(lines, channelId);
}

beforeAll(async () => {
  crab = await startCrabline('discord', path.join(home, 'crabline'));
  ({ guildId: guild, channelId: channel } = crab.manifest.fixture);
  bot = crab.manifest.botUserId;
  env = await startTestEnv({
    home,
    env: { DISCORD_BOT_TOKEN: crab.manifest.botToken, DISCORD_API_URL: crab.manifest.endpoints.apiRoot },
    script: (req) => {
      const text = lastUserText(req);
      if (text.includes('hello in a dm')) return { text: 'Hi Alice, in private.' };
      if (text.includes('what did I say')) return { text: 'You talked about climbing.' };
      if (text.includes('are you there')) return { text: 'Yes, mentioned and here.' };
      if (text.includes('tell me more')) return { text: 'More, as you replied.' };
      if (text.includes('long list please')) return { text: LONG_REPLY };
      if (text.includes('look at this')) return { text: 'A lovely red square.' };
      if (text.includes('while you were away')) return { text: 'Welcome back.' };
      return { text: 'Other answer.' };
    },
  });
  for (const json of [
    { jid: `dc:dm:${ALICE.senderId}`, name: 'Alice', folder: 'alice', requiresTrigger: false },
    { jid: `dc:${channel}`, name: 'Climbing', folder: 'climbing' },
  ]) {
    const res = await env.api('/api/groups', { method: 'POST', json });
    expect(res.status, await res.clone().text()).toBe(201);
  }
  await waitConnected();
}, 60_000);
afterAll(async () => {
  await env?.close();
  await crab?.stop();
});

async function waitConnected(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = (await (await env.api('/api/status')).json()) as {
      channels: { name: string; connected: boolean }[];
    };
    if (status.channels.some((c) => c.name === 'discord' && c.connected)) return;
    if (Date.now() > deadline) throw new Error(`Discord never connected: ${JSON.stringify(status.channels)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const inGuild = (content: string, extra: Record<string, unknown> = {}) =>
  crab.inject({ channelId: channel, guildId: guild, ...ALICE, content, ...extra });

test('a direct message is answered in the direct chat', async () => {
  const dm = dmChannelId(bot, ALICE.senderId);
  await crab.inject({ channelId: dm, ...ALICE, content: 'hello in a dm' });
  expect(await untilPosts(dm, (p) => p.length >= 1, 'the DM answer')).toEqual(['Hi Alice, in private.']);
  // "Andy is typing…" was shown while the agent worked, before the answer.
  const lines = crab.recorded();
  const typedAt = lines.findIndex(
    (l) => l.method === 'POST' && l.path === `/api/v10/channels/${dm}/typing` && l.accepted,
  );
  const answeredAt = lines.findIndex((l) => l.method === 'POST' && l.path === `/api/v10/channels/${dm}/messages`);
  expect(typedAt).toBeGreaterThan(-1);
  expect(typedAt).toBeLessThan(answeredAt);
  const stored = await env.messages(`dc:dm:${ALICE.senderId}`);
  expect(stored.find((m) => m.text === 'hello in a dm')).toMatchObject({
    senderName: 'Alice',
    sender: `dc:dm:${ALICE.senderId}`,
  });
});

test('in a channel, an untriggered message is context; the trigger word, an @mention and a reply to the bot are each answered', async () => {
  await inGuild('I went climbing today');
  expect(await env.waitRouted((m) => m.text === 'I went climbing today', 20_000)).toBe('stored');

  await inGuild('@Andy what did I say?');
  await untilPosts(channel, (p) => p.includes('You talked about climbing.'), 'the triggered answer');
  const prompt = lastUserText(env.fake.turnRequests().at(-1)!);
  expect(prompt).toContain('I went climbing today');

  // Mid-sentence, so only the mention (not the trigger word at the start) can address the bot.
  await inGuild(`so <@${bot}> are you there?`);
  await untilPosts(channel, (p) => p.includes('Yes, mentioned and here.'), 'the answer to the mention');
  // The raw mention markup reaches the model as the assistant's name.
  expect(lastUserText(env.fake.turnRequests().at(-1)!)).toContain('so @Andy are you there?');

  const mine = await botMessageId(channel, 'Yes, mentioned and here.');
  await inGuild('tell me more', { message_reference: { message_id: mine } });
  const posts = await untilPosts(channel, (p) => p.includes('More, as you replied.'), 'the answer to the reply');
  expect(posts).toEqual(['You talked about climbing.', 'Yes, mentioned and here.', 'More, as you replied.']);
});

test('a long reply is split at 2000 characters, each part a whole code block', async () => {
  const before = postsTo(crab.recorded(), channel).length;
  await inGuild('@Andy long list please');
  const posts = await untilPosts(
    channel,
    (p) => p.slice(before).join('').includes('That is all.'),
    'every part of the long reply',
  );
  const parts = posts.slice(before);
  expect(parts.length).toBeGreaterThanOrEqual(3);
  for (const part of parts) {
    expect(part.length).toBeLessThanOrEqual(2000);
    expect((part.match(/```/g) ?? []).length % 2).toBe(0);
  }
  const joined = parts.join('\n').replace(/\n```\n```text\n/g, '\n');
  for (let i = 0; i < 60; i++) expect(joined).toContain(`Line ${i}: `);
});

// A 1x1 red PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

test('a photo lands in the group inbox and the model sees it', async () => {
  const form = new FormData();
  form.set(
    'payload_json',
    JSON.stringify({ content: '@Andy look at this', attachments: [{ id: 0, filename: 'red.png' }] }),
  );
  form.set('files[0]', new Blob([PNG], { type: 'image/png' }), 'red.png');
  const res = await fetch(`${crab.manifest.endpoints.apiRoot}/v10/channels/${channel}/messages`, {
    method: 'POST',
    headers: { authorization: `Bot ${crab.manifest.driverBotToken}` },
    body: form,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  await untilPosts(channel, (p) => p.includes('A lovely red square.'), 'the photo answer');
  const inbox = path.join(home, 'groups', 'climbing', 'inbox');
  const files = fs.readdirSync(inbox);
  expect(files).toHaveLength(1);
  expect(files[0]).toMatch(/\.png$/);
  expect(fs.readFileSync(path.join(inbox, files[0]!))).toEqual(PNG);
  const req = env.fake.turnRequests().find((r) => r.text.includes('look at this'))!;
  const lastUser = req.body.messages.filter((m: any) => m.role === 'user').pop();
  expect(lastUser.content.find((c: any) => c.type === 'image')?.source?.data).toBe(PNG.toString('base64'));
});

test('a stranger in a direct message gets a pairing code, and nothing else', async () => {
  const dm = dmChannelId(bot, NORA.senderId);
  const before = env.fake.turnRequests().length;
  await crab.inject({ channelId: dm, ...NORA, content: 'hi, who are you?' });
  const [code] = await untilPosts(dm, (p) => p.length >= 1, 'the pairing code');
  expect(code).toMatch(/approve the code [A-Z0-9]{6}/);
  await env.untilChat(
    'local:main',
    (ms) => ms.some((m) => m.text.includes('Nora Newcomer')),
    10_000,
    'the owner notice',
  );
  expect(env.host.store.groups.get(`dc:dm:${NORA.senderId}`)).toBeUndefined();
  expect(env.fake.turnRequests().length).toBe(before);
});

test('a SIGKILL of the host mid-turn: after restart the answer reaches Discord exactly once', async () => {
  if (!fs.existsSync('dist/src/cli.js'))
    throw new Error('dist/src/cli.js is missing: build first (npx tsc -p tsconfig.json).');
  const crashHome = makeHome('nanoclaw-discord-crash-');
  const server = await startCrabline('discord', path.join(crashHome, 'crabline'));
  let asked = 0;
  // The first turn hangs, so the kill lands while the agent is working; the turn after restart answers.
  const model = await startFakeAnthropic((req) =>
    lastUserText(req).includes('what is the plan')
      ? ++asked === 1
        ? { hang: true }
        : { text: 'Here is the plan.' }
      : undefined,
  );
  const hostEnv = {
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: model.url,
    NANOCLAW_RUNTIME: 'bwrap',
    IDLE_TIMEOUT: '1000',
    NANOCLAW_RETRY_BASE_MS: '200',
    NANOCLAW_CONFIG_DIR: path.join(crashHome, '.config-nanoclaw'),
    DISCORD_BOT_TOKEN: server.manifest.botToken,
    DISCORD_API_URL: server.manifest.endpoints.apiRoot,
  };
  const { guildId, channelId } = server.manifest.fixture;
  let host: HostProcess | null = null;
  try {
    host = await startHostProcess(crashHome, hostEnv);
    const res = await host.api('/api/groups', {
      method: 'POST',
      json: { jid: `dc:${channelId}`, name: 'Climbing', folder: 'climbing', requiresTrigger: false },
    });
    expect(res.status).toBe(201);
    await untilDiscordUp(host);
    await server.inject({ channelId, guildId, ...ALICE, content: 'what is the plan?' });
    await until(() => asked >= 1, 60_000, 'the turn to reach the model');
    await host.kill('SIGKILL');
    expect(postsTo(server.recorded(), channelId)).toEqual([]);

    host = await startHostProcess(crashHome, hostEnv);
    await host.settled(90_000);
    expect(postsTo(server.recorded(), channelId)).toEqual(['Here is the plan.']);
  } finally {
    await host?.kill();
    await model.close();
    await server.stop();
    fs.rmSync(crashHome, { recursive: true, force: true });
  }
});

async function untilDiscordUp(host: HostProcess): Promise<void> {
  await until(
    async () => {
      const status = (await (await host.api('/api/status')).json()) as {
        channels: { name: string; connected: boolean }[];
      };
      return status.channels.some((c) => c.name === 'discord' && c.connected);
    },
    20_000,
    'Discord to connect in the host process',
  );
}

test('a message posted while the host was down is fetched on reconnect and answered once', async () => {
  // Where the channel picks up: the newest message the host has from this chat.
  await inGuild('before the break');
  expect(await env.waitRouted((m) => m.text === 'before the break', 20_000)).toBe('stored');
  await env.host.stop();
  await inGuild('@Andy while you were away');
  const posted = postsTo(crab.recorded(), channel).length;
  await env.restart();
  const posts = await untilPosts(channel, (p) => p.length > posted, 'the answer to the missed message');
  expect(posts.slice(posted)).toEqual(['Welcome back.']);
  await until(
    () => env.host.queue.activeCount() === 0 && env.host.store.outbox.pending().length === 0,
    30_000,
    'the host to settle',
  );
  expect(postsTo(crab.recorded(), channel).slice(posted)).toEqual(['Welcome back.']);
  expect((await env.messages(`dc:${channel}`)).filter((m) => m.text === '@Andy while you were away')).toHaveLength(1);
});

test('a thread is its own chat, known to the host but not answered until registered', async () => {
  const thread = '135000000000000031';
  await inGuild('@Andy anyone in this thread?', { channelId: thread, parentChannelId: channel });
  expect(await env.waitRouted((m) => m.chatJid === `dc:${thread}`, 20_000)).toBe('stored');
  const { unregistered } = (await (await env.api('/api/groups')).json()) as { unregistered: { jid: string }[] };
  expect(unregistered.map((c) => c.jid)).toContain(`dc:${thread}`);
});

test('a 429 with a long retry_after is handed to the outbox as a wait, and the retry sends only the parts not yet accepted', async () => {
  const room = '135000000000000041';
  await crab.inject({ channelId: room, guildId: guild, ...ALICE, content: 'a room for the rate limit' });
  // Crabline never limits, so a proxy in front of its REST API refuses the second part once, as Discord would.
  let posts = 0;
  const proxy = http.createServer(async (req, res) => {
    const body = await new Promise<Buffer>((r) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d)).on('end', () => r(Buffer.concat(parts)));
    });
    if (req.method === 'POST' && req.url === `/api/v10/channels/${room}/messages` && ++posts === 2) {
      res.writeHead(429, {
        'content-type': 'application/json',
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': '30',
        'x-ratelimit-bucket': 'b1',
        'x-ratelimit-scope': 'user',
        'retry-after': '30',
      });
      res.end(JSON.stringify({ message: 'You are being rate limited.', retry_after: 30, global: false }));
      return;
    }
    const upstream = await fetch(crab.manifest.baseUrl + req.url, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
      ) as Record<string, string>,
      body: ['GET', 'HEAD'].includes(req.method!) ? undefined : new Uint8Array(body),
    });
    res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const ch = createDiscordChannel({
    token: crab.manifest.botToken,
    apiRoot: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api`,
    assistantName: 'Andy',
    logger: silentLogger(),
    media: mediaStore(() => null),
  });
  try {
    await ch.connect({ onMessage: () => {}, onChat: () => {} });
    const text = `${'a'.repeat(1500)}\n\n${'b'.repeat(1500)}`;
    const refused = await ch.sendMessage(`dc:${room}`, text).catch((err) => err);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(29_000);
    await ch.sendMessage(`dc:${room}`, text);
    expect(postsTo(crab.recorded(), room)).toEqual(['a'.repeat(1500), 'b'.repeat(1500)]);
  } finally {
    await ch.disconnect();
    await new Promise((r) => proxy.close(r));
  }
});

test('a refused token and an unreachable API each say what to do', async () => {
  const make = (token: string, apiRoot: string) =>
    createDiscordChannel({
      token,
      apiRoot,
      assistantName: 'Andy',
      logger: silentLogger(),
      media: mediaStore(() => null),
    });
  await expect(
    make('MTM1.wrong.token', crab.manifest.endpoints.apiRoot).connect({ onMessage: () => {}, onChat: () => {} }),
  ).rejects.toThrow(/Discord rejected DISCORD_BOT_TOKEN: .*nanoclaw auth discord/);
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  await expect(
    make(crab.manifest.botToken, `http://127.0.0.1:${port}/api`).connect({ onMessage: () => {}, onChat: () => {} }),
  ).rejects.toThrow(`check DISCORD_API_URL (http://127.0.0.1:${port}/api)`);
});

test('the owner is known by user id (the user whose direct chat is a main chat), never by a display name', async () => {
  const owner = '135000000000000099';
  env.host.store.groups.insert({
    jid: `dc:dm:${owner}`,
    name: 'Sam',
    folder: 'sam',
    trigger: '@Andy',
    requiresTrigger: false,
    isMain: true,
    sandbox: {},
    addedAt: new Date().toISOString(),
  });
  await inGuild('the owner speaking', { senderId: owner, senderName: 'Sam' });
  await inGuild('also the owner, honestly', { senderId: '135000000000000098', senderName: 'Sam' });
  for (const text of ['the owner speaking', 'also the owner, honestly'])
    await env.waitRouted((m) => m.text === text, 20_000);
  const stored = env.host.store.messages.recent(`dc:${channel}`, 20);
  expect(stored.find((m) => m.text === 'the owner speaking')?.fromMe).toBe(true);
  expect(stored.find((m) => m.text === 'also the owner, honestly')?.fromMe).toBe(false);
});

/** Runs the built `nanoclaw` with only the environment given, stdin piped. */
function nanoclaw(
  args: string[],
  extra: Record<string, string>,
  input: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/src/cli.js', ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', ...extra },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(input);
  });
}

test('nanoclaw auth discord checks the token with /users/@me: a refused one is not saved, a good one is, and doctor sees it', async () => {
  const authHome = makeHome('nanoclaw-discord-auth-');
  try {
    const api = { NANOCLAW_HOME: authHome, DISCORD_API_URL: crab.manifest.endpoints.apiRoot };
    const refused = await nanoclaw(['auth', 'discord'], api, 'MTM1.wrong.token\n');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('Discord refused this token (401)');
    expect(
      fs.existsSync(path.join(authHome, '.env')) ? fs.readFileSync(path.join(authHome, '.env'), 'utf8') : '',
    ).not.toContain('DISCORD_BOT_TOKEN');

    const saved = await nanoclaw(['auth', 'discord'], api, `${crab.manifest.botToken}\n`);
    expect(saved.code, saved.err).toBe(0);
    expect(saved.out).toContain('this is crabline');
    expect(saved.out + saved.err).not.toContain(crab.manifest.botToken);
    expect(fs.readFileSync(path.join(authHome, '.env'), 'utf8')).toContain(
      `DISCORD_BOT_TOKEN=${crab.manifest.botToken}`,
    );
    const doctor = await nanoclaw(['doctor'], api, '');
    expect(doctor.out).toMatch(/Discord.*bot token set/);
  } finally {
    fs.rmSync(authHome, { recursive: true, force: true });
  }
});

/** The id of the bot's message with this text, read back through the REST API as a member of the channel. */
async function botMessageId(channelId: string, content: string): Promise<string> {
  const res = await fetch(`${crab.manifest.endpoints.apiRoot}/v10/channels/${channelId}/messages?limit=100`, {
    headers: { authorization: `Bot ${crab.manifest.driverBotToken}` },
  });
  const messages = (await res.json()) as { id: string; content: string; author: { id: string } }[];
  const mine = messages.find((m) => m.author.id === bot && m.content === content);
  if (!mine)
    throw new Error(`no bot message "${content}" in ${channelId}: ${JSON.stringify(messages.map((m) => m.content))}`);
  return mine.id;
}
