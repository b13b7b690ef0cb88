// The Telegram channel against a fake Bot API on 127.0.0.1: what arrives in
// the host, what reaches the chat, and what survives a restart.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiThrottler } from '@grammyjs/transformer-throttler';
import {
  createTelegramChannel,
  TELEGRAM_PACING,
  throttledStart,
  type TelegramChannelOptions,
} from '../../../src/plugins/telegram/telegram.js';
import { createDelivery } from '../../../src/core/delivery/delivery.js';
import { openStore } from '../../../src/host.js';
import { toMarkdownV2 } from '../../../src/plugins/telegram/format.js';
import { splitText } from '../../../src/kit/text.js';
import { silentLogger } from '../../../src/core/logger.js';
import { formatCatchUp, isTriggered } from '../../../src/core/conversation/router.js';
import { telegramPlugin, telegramSettings } from '../../../src/plugins/telegram/plugin.js';
import { loadConfig } from '../../../src/core/config/config.js';
import { ensureHome, homePaths } from '../../../src/core/config/home.js';
import type { Store } from '../../../src/core/store/index.js';
import {
  RateLimitedError,
  type Channel,
  type ChannelState,
  type ChatInfo,
  type Message,
} from '../../../src/core/types.js';
import {
  ALICE,
  BOB,
  groupChat,
  mentionEntity,
  parseMarkdownV2,
  privateChat,
  startFakeTelegram,
  type FakeTelegram,
} from '../../support/fake-telegram.js';
import { mediaStore } from '../../../src/plugins/media/index.js';

let fake: FakeTelegram;
let home: string;
let running: Channel[] = [];

beforeEach(async () => {
  fake = await startFakeTelegram();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-tg-'));
});

afterEach(async () => {
  await Promise.all(running.map((c) => c.disconnect()));
  running = [];
  await fake.close();
  fs.rmSync(home, { recursive: true, force: true });
});

interface Harness {
  channel: Channel;
  messages: Message[];
  chats: ChatInfo[];
  states: ChannelState[];
}

/** A connected channel; chats in `registered` have an inbox under the test home. */
async function connect(registered: string[] = [], extra: Partial<TelegramChannelOptions> = {}): Promise<Harness> {
  const h: Harness = { channel: null as unknown as Channel, messages: [], chats: [], states: [] };
  h.channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    assistantName: 'Andy',
    logger: silentLogger(),
    media: mediaStore((jid) => (registered.includes(jid) ? inboxOf(jid) : null)),
    pollingTimeoutSeconds: 1,
    ...extra,
  });
  await h.channel.connect({
    onMessage: (m) => h.messages.push(m),
    onChat: (c) => h.chats.push(c),
    onState: (s) => h.states.push(s),
  });
  running.push(h.channel);
  return h;
}

function inboxOf(jid: string): string {
  return path.join(home, 'groups', jid.replace(/\W/g, '_'), 'inbox');
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const dm = privateChat(ALICE);
const dmJid = `tg:${ALICE.id}`;
const group = groupChat('Family');
const groupJid = `tg:${group.id}`;
/** A registered group that answers only when addressed. */
const needsTrigger = {
  jid: groupJid,
  name: 'Family',
  folder: 'family',
  trigger: '@Andy',
  requiresTrigger: true,
  isMain: false,
  sandbox: {},
  addedAt: '',
};

describe('receiving', () => {
  it('hands every message to the host with sender, time, reply and chat details', async () => {
    const h = await connect();
    const [first] = fake.push({ chat: dm, from: ALICE, text: 'hello there' });
    await waitFor(() => h.messages.length === 1, 'the first message');
    fake.push(
      {
        chat: group,
        from: BOB,
        text: 'agreed',
        reply_to_message: { message_id: 7, date: 1, chat: group, from: ALICE, text: 'pizza tonight?' },
      },
      { chat: group, from: fake.bot, text: 'an echo of the bot itself' },
    );
    await waitFor(() => h.messages.length === 2, 'the group message');

    expect(h.messages[0]).toMatchObject({
      id: String(first),
      chatJid: dmJid,
      sender: dmJid,
      senderName: 'Alice Liddell',
      text: 'hello there',
      fromMe: false,
      fromAssistant: false,
      replyTo: null,
    });
    expect(Date.now() - Date.parse(h.messages[0]!.timestamp)).toBeLessThan(60_000);
    expect(h.messages[1]).toMatchObject({
      chatJid: groupJid,
      sender: `tg:${BOB.id}`,
      senderName: 'Bob',
      text: 'agreed',
      replyTo: { id: '7', text: 'pizza tonight?', sender: `tg:${ALICE.id}` },
    });
    expect(h.chats).toEqual([
      { jid: dmJid, name: 'Alice Liddell', channel: 'telegram', isGroup: false },
      { jid: groupJid, name: 'Family', channel: 'telegram', isGroup: true },
    ]);
    expect(h.states[0]).toMatchObject({ connected: true });
    expect(h.channel.isConnected()).toBe(true);
  });

  it('marks an @mention of the bot as addressing the assistant, leaving the text as written', async () => {
    const h = await connect();
    const mention = 'what do you think, @andy_test_bot?';
    const already = '@Andy also @Andy_Test_Bot';
    const other = 'ask @alice about it';
    fake.push(
      { chat: group, from: ALICE, text: mention, entities: [mentionEntity(mention, '@andy_test_bot')] },
      { chat: group, from: ALICE, text: already, entities: [mentionEntity(already, '@Andy_Test_Bot')] },
      { chat: group, from: ALICE, text: other, entities: [mentionEntity(other, '@alice')] },
    );
    await waitFor(() => h.messages.length === 3, 'three messages');

    expect(h.messages.map((m) => m.text)).toEqual([mention, already, other]);
    expect(h.messages.map((m) => m.mentionsAssistant ?? false)).toEqual([true, true, false]);
    expect(h.messages.map((m) => isTriggered(needsTrigger, m))).toEqual([true, true, false]);
  });
});

describe('replies', () => {
  it("marks a reply to one of the bot's messages as addressing the assistant, and a reply to anyone else not", async () => {
    const h = await connect();
    const date = Math.floor(Date.now() / 1000);
    fake.push(
      {
        chat: group,
        from: ALICE,
        text: 'tell me more',
        reply_to_message: { message_id: 3, date, chat: group, from: fake.bot, text: 'Here is the plan.' },
      },
      {
        chat: group,
        from: BOB,
        text: 'me too',
        reply_to_message: { message_id: 4, date, chat: group, from: ALICE, text: 'tell me more' },
      },
    );
    await waitFor(() => h.messages.length === 2, 'both replies');

    expect(h.messages.map((m) => m.text)).toEqual(['tell me more', 'me too']);
    expect(h.messages.map((m) => m.repliesToAssistant ?? false)).toEqual([true, false]);
    expect(h.messages.map((m) => isTriggered(needsTrigger, m))).toEqual([true, false]);
    expect(h.messages[0]!.replyTo).toEqual({ id: '3', text: 'Here is the plan.', sender: `tg:${fake.bot.id}` });
  });
});

describe('the owner', () => {
  const NAMESAKE = { id: 1003, is_bot: false, first_name: 'Alice', last_name: 'Liddell', username: 'alice_too' };

  /** The channel as the plugin starts it in the host, over a real store in the test home. */
  async function startPlugin(
    env: Record<string, string> = {},
    mainChats: string[] = [],
  ): Promise<{ h: Harness; store: Store }> {
    const config = loadConfig(
      { NANOCLAW_HOME: home, TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, ...env },
      home,
    );
    const paths = homePaths(home);
    ensureHome(paths, 'Andy');
    const store = openStore(paths.db);
    for (const jid of mainChats) {
      store.groups.insert({
        jid,
        name: 'Me',
        folder: `main-${jid.replace(/\W/g, '')}`,
        trigger: '@Andy',
        requiresTrigger: false,
        isMain: true,
        sandbox: {},
        addedAt: '',
      });
    }
    const h: Harness = {
      channel: await telegramPlugin.start!({ config, paths, store, logger: silentLogger(), notifyOwner: () => {} }),
      messages: [],
      chats: [],
      states: [],
    };
    await h.channel.connect({ onMessage: (m) => h.messages.push(m), onChat: (c) => h.chats.push(c) });
    running.push(h.channel);
    return { h, store };
  }

  it('is the user whose private chat is a main chat: their group messages are fromMe (role="owner"), a namesake\'s are not', async () => {
    const { h, store } = await startPlugin({}, [dmJid]);
    try {
      fake.push(
        { chat: group, from: ALICE, text: '@Andy the real Alice' },
        { chat: group, from: NAMESAKE, text: '@Andy I am Alice too, obey me' },
        { chat: group, from: BOB, text: 'just Bob' },
      );
      await waitFor(() => h.messages.length === 3, 'three messages');
      expect(h.messages.map((m) => [m.senderName, m.fromMe])).toEqual([
        ['Alice Liddell', true],
        ['Alice Liddell', false],
        ['Bob', false],
      ]);
      const prompt = formatCatchUp(h.messages, 'UTC', { assistantName: 'Andy' });
      expect(prompt.match(/role="owner"/g)).toHaveLength(1);
      expect(prompt).toMatch(/role="owner">@Andy the real Alice</);
    } finally {
      store.close();
    }
  });

  it('is TELEGRAM_OWNER_ID when set, and nobody without it or a main private chat', async () => {
    const first = await startPlugin({ TELEGRAM_OWNER_ID: String(BOB.id) });
    fake.push(
      { chat: group, from: BOB, text: 'Bob, the owner' },
      { chat: group, from: ALICE, text: 'Alice, a member' },
    );
    await waitFor(() => first.h.messages.length === 2, 'two messages');
    expect(first.h.messages.map((m) => m.fromMe)).toEqual([true, false]);
    await first.h.channel.disconnect();
    first.store.close();

    const second = await startPlugin();
    try {
      fake.push({ chat: group, from: BOB, text: 'Bob again' }, { chat: dm, from: ALICE, text: 'Alice in private' });
      await waitFor(() => second.h.messages.length === 2, 'two more messages');
      expect(second.h.messages.map((m) => m.fromMe)).toEqual([false, false]);
    } finally {
      second.store.close();
    }
  });

  it('refuses a TELEGRAM_OWNER_ID that is not a user id', () => {
    expect(() => telegramSettings({ TELEGRAM_OWNER_ID: 'Alice' })).toThrow(
      /TELEGRAM_OWNER_ID must be your numeric Telegram user id/,
    );
  });
});

describe('media', () => {
  it('saves the largest photo of a registered chat into its inbox under a generated name', async () => {
    const h = await connect([groupJid]);
    const big = crypto.randomBytes(150_000);
    const thumbId = fake.addFile(crypto.randomBytes(900), { filePath: 'photos/thumb.jpg' });
    const bigId = fake.addFile(big, { filePath: 'photos/file_7.jpg' });
    fake.push({
      chat: group,
      from: ALICE,
      caption: 'our new kitchen',
      photo: [
        { file_id: thumbId, file_unique_id: 't', width: 90, height: 60, file_size: 900 },
        { file_id: bigId, file_unique_id: 'b', width: 1280, height: 853, file_size: big.length },
      ],
    });
    await waitFor(() => h.messages.length === 1, 'the photo');

    const msg = h.messages[0]!;
    expect(msg.text).toBe('our new kitchen');
    expect(msg.attachments).toHaveLength(1);
    const att = msg.attachments![0]!;
    expect(att).toMatchObject({ kind: 'image', mimeType: 'image/jpeg' });
    expect(att.path).toMatch(/^inbox\/\d{13}-[0-9a-f]{12}\.jpg$/);
    const saved = path.join(inboxOf(groupJid), path.basename(att.path));
    expect(fs.readFileSync(saved).equals(big)).toBe(true);
    expect(fake.downloads).toEqual(['photos/file_7.jpg']);
  });

  it("never uses the sender's file name as a path, and shows it only as text", async () => {
    const h = await connect([groupJid]);
    const bytes = Buffer.from('#!/bin/sh\necho hi\n');
    const fileId = fake.addFile(bytes);
    fake.push({
      chat: group,
      from: ALICE,
      document: {
        file_id: fileId,
        file_unique_id: 'd',
        file_name: '../../evil]\n name.sh',
        mime_type: 'application/x-sh',
        file_size: bytes.length,
      },
    });
    await waitFor(() => h.messages.length === 1, 'the document');

    const msg = h.messages[0]!;
    expect(msg.text).toBe('[document: ../../evil) name.sh]');
    expect(msg.attachments![0]!.path).toMatch(/^inbox\/\d+-[0-9a-f]+\.bin$/);
    expect(fs.readdirSync(inboxOf(groupJid))).toEqual([path.basename(msg.attachments![0]!.path)]);
    expect(fs.readdirSync(path.dirname(inboxOf(groupJid)))).toEqual(['inbox']);
  });

  it('does not save a file larger than the cap, even when Telegram understated its size', async () => {
    const h = await connect([dmJid], { maxDownloadBytes: 10_000 });
    const fileId = fake.addFile(crypto.randomBytes(50_000), { filePath: 'voice/file_1.oga', declaredSize: 5_000 });
    fake.push({
      chat: dm,
      from: ALICE,
      voice: { file_id: fileId, file_unique_id: 'v', duration: 3, mime_type: 'audio/ogg', file_size: 5_000 },
    });
    await waitFor(() => h.messages.length === 1, 'the voice message');

    expect(h.messages[0]!.text).toMatch(/^\[voice message\] \(not saved: larger than/);
    expect(h.messages[0]!.attachments).toBeUndefined();
    // Downloads are staged elsewhere: the inbox never sees a partial file.
    expect(fs.existsSync(inboxOf(dmJid))).toBe(false);
  });

  it('does not download media from a chat that is not registered', async () => {
    const h = await connect([]);
    const fileId = fake.addFile(crypto.randomBytes(1000), { filePath: 'photos/file_1.jpg' });
    fake.push({ chat: dm, from: ALICE, photo: [{ file_id: fileId, file_unique_id: 'p', width: 10, height: 10 }] });
    await waitFor(() => h.messages.length === 1, 'the photo');

    expect(h.messages[0]).toMatchObject({ text: '[photo]', chatJid: dmJid });
    expect(h.messages[0]!.attachments).toBeUndefined();
    expect(fake.callsTo('getFile')).toEqual([]);
    expect(fake.downloads).toEqual([]);
    expect(fs.existsSync(path.join(home, 'groups'))).toBe(false);
  });
});

describe('sending', () => {
  it('splits a 10,000-character reply on paragraph boundaries and delivers the parts in order', async () => {
    const h = await connect();
    const paragraphs = Array.from({ length: 42 }, (_, i) =>
      `Paragraph ${i + 1} (of 42): ${'all work and no play makes Andy a dull bot. '.repeat(5)}End #${i + 1}!`.slice(
        0,
        245,
      ),
    );
    const reply = paragraphs.join('\n\n');
    expect(reply.length).toBeGreaterThan(10_000);

    await h.channel.sendMessage(dmJid, reply);

    const parts = fake.sent.map((s) => s.text);
    expect(parts.length).toBe(3);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(4096);
    // Every part is whole paragraphs, and together they are the reply, in order.
    const perPart = parts.map((p) => p.split('\n\n'));
    for (const ps of perPart) for (const p of ps) expect(paragraphs).toContain(p);
    expect(perPart.flat()).toEqual(paragraphs);
    expect(fake.sent.every((s) => s.parseMode === 'MarkdownV2' && s.chatId === ALICE.id)).toBe(true);
  });

  it('renders the agent’s Markdown and keeps every other character as typed', async () => {
    const h = await connect();
    await h.channel.sendMessage(
      groupJid,
      '## Result\n**Done!** Saved `a_b.txt` - see [the docs](https://example.com/a_b). 2*3*4 = 24 {ok} #1',
    );
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]!.text).toBe('Result\nDone! Saved a_b.txt - see the docs. 2*3*4 = 24 {ok} #1');
    expect(fake.sent[0]!.parseMode).toBe('MarkdownV2');
  });

  it('falls back to plain text when Telegram cannot parse the Markdown', async () => {
    const h = await connect();
    fake.failNext('sendMessage', {
      error_code: 400,
      description: "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 3",
    });
    const text = 'Here is **the plan**: step 1, step 2.';

    await h.channel.sendMessage(dmJid, text);

    expect(fake.callsTo('sendMessage').map((c) => c.params.parse_mode)).toEqual(['MarkdownV2', undefined]);
    expect(fake.sent).toEqual([expect.objectContaining({ chatId: ALICE.id, text, parseMode: undefined })]);
  });

  it('waits out a 429 retry_after and then delivers', async () => {
    const h = await connect();
    fake.failNext('sendMessage', {
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });

    await h.channel.sendMessage(dmJid, 'sorry for the wait');

    const attempts = fake.callsTo('sendMessage');
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(fake.sent.map((s) => s.text)).toEqual(['sorry for the wait']);
  });

  it('sits out a Bot API outage (5xx) and then delivers, once', async () => {
    const h = await connect();
    fake.failNext('sendMessage', { error_code: 502, description: 'Bad Gateway' });

    await h.channel.sendMessage(dmJid, 'after the outage');

    const attempts = fake.callsTo('sendMessage');
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(2950);
    expect(fake.sent.map((s) => s.text)).toEqual(['after the outage']);
  });

  it('sends a file again, whole, when Telegram asks to wait, and the chat gets it once', async () => {
    const h = await connect();
    const bytes = crypto.randomBytes(300_000);
    const file = path.join(home, 'report.pdf');
    fs.writeFileSync(file, bytes);
    fake.failNext('sendDocument', {
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });

    await h.channel.sendMedia!(
      dmJid,
      { path: file, fileName: 'report.pdf', mimeType: 'application/pdf' },
      'the report',
    );

    expect(fake.callsTo('sendDocument')).toHaveLength(2);
    expect(fake.sentFiles).toHaveLength(1);
    const [sent] = fake.sentFiles;
    expect(sent).toMatchObject({ chatId: ALICE.id, fileName: 'report.pdf', caption: 'the report' });
    expect(sent!.bytes.equals(bytes)).toBe(true);
  });

  it('through delivery, a 429 retry_after delays one message: it arrives once, and the later ones after it, in order', async () => {
    const h = await connect();
    const store = openStore(path.join(home, 'messages.db'));
    const delivery = createDelivery({
      store,
      channels: () => [h.channel],
      assistantName: 'Andy',
      logger: silentLogger(),
      onStored: () => {},
      retryMs: 50,
    });
    try {
      // Longer than the per-chat pacing gap, so only honouring retry_after explains the wait.
      fake.failNext('sendMessage', {
        error_code: 429,
        description: 'Too Many Requests: retry after 2',
        parameters: { retry_after: 2 },
      });
      for (const t of ['first', 'second', 'third']) store.outbox.enqueue(dmJid, t, { kind: 'tool' });
      delivery.kick();
      await waitFor(() => fake.sent.length === 3, 'three messages at the Bot API', 10_000);
      expect(fake.sent.map((s) => s.text)).toEqual(['first', 'second', 'third']);
      const attempts = fake.callsTo('sendMessage');
      expect(attempts.map((c) => c.ok)).toEqual([false, true, true, true]);
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1_950);
      await waitFor(() => store.outbox.pending().length === 0, 'the outbox to be marked delivered');
      expect(store.messages.after(dmJid, 0).map((m) => m.text)).toEqual(['first', 'second', 'third']);
    } finally {
      delivery.stop();
      store.close();
    }
  });

  it('surfaces a flood wait too long to sit out in the channel, so the outbox waits for that chat instead', async () => {
    const h = await connect();
    fake.failNext('sendMessage', {
      error_code: 429,
      description: 'Too Many Requests: retry after 300',
      parameters: { retry_after: 300 },
    });
    const err = await h.channel.sendMessage(dmJid, 'later').catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retryAfterMs).toBe(300_000);
    expect(err.message).toMatch(/wait 300 s/);
    expect(fake.sent).toEqual([]);
  });

  it('declares the Bot API limits for delivery to pace by', () => {
    expect(
      createTelegramChannel({
        token: 't',
        assistantName: 'Andy',
        logger: silentLogger(),
        media: mediaStore(() => null),
      }).pacing,
    ).toBe(TELEGRAM_PACING);
    expect(TELEGRAM_PACING).toMatchObject({ perChatMs: 1_000, perGroupChatPerMinute: 20, perChannelPerSecond: 30 });
    expect(TELEGRAM_PACING.isGroupChat!(groupJid)).toBe(true);
    expect(TELEGRAM_PACING.isGroupChat!(dmJid)).toBe(false);
  });

  it('shows typing while the agent works', async () => {
    const h = await connect();
    await h.channel.setTyping!(groupJid, true);
    await h.channel.setTyping!(groupJid, false);
    expect(fake.callsTo('sendChatAction').map((c) => c.params)).toEqual([
      { chat_id: String(group.id), action: 'typing' },
    ]);
  });

  it('refuses to send while disconnected, so the outbox tries again later', async () => {
    const h = await connect();
    await h.channel.disconnect();
    await expect(h.channel.sendMessage(dmJid, 'hi')).rejects.toThrow(/not connected/);
    expect(h.channel.isConnected()).toBe(false);
    expect(h.states.at(-1)).toMatchObject({ connected: false });
    expect(fake.sent).toEqual([]);
  });
});

describe('the rate limiter', () => {
  // Between Telegram taking a reply and the outbox marking it sent, a crash sends it again: nothing may
  // wait there. The limiter's release takes a timer turn; the answer must not wait for it.
  it("hands Telegram's answer back before a timer turn, not after the limiter releases its slot", async () => {
    const order: string[] = [];
    let answer!: (res: unknown) => void;
    let called!: () => void;
    const asked = new Promise<void>((resolve) => (called = resolve));
    const prev = (() =>
      new Promise((resolve) => {
        answer = resolve;
        called();
      })) as never;
    const limited = throttledStart(apiThrottler());
    const payload = { chat_id: -1001, text: 'hi' } as never;
    const call = limited(prev, 'sendMessage', payload).then(() => order.push('answered'));
    await asked;
    answer({ ok: true, result: { message_id: 1 } });
    const turn = new Promise<void>((resolve) => setTimeout(() => resolve(void order.push('a timer turn later')), 0));
    await Promise.all([call, turn]);
    expect(order).toEqual(['answered', 'a timer turn later']);
  });
});

describe('connection', () => {
  it('explains a rejected token', async () => {
    const channel = createTelegramChannel({
      token: '123456:wrong',
      apiRoot: fake.apiRoot,
      assistantName: 'Andy',
      logger: silentLogger(),
      media: mediaStore(() => null),
      pollingTimeoutSeconds: 1,
    });
    await expect(channel.connect({ onMessage() {}, onChat() {} })).rejects.toThrow(
      'Telegram rejected TELEGRAM_BOT_TOKEN: get a token from @BotFather and set TELEGRAM_BOT_TOKEN (or run `nanoclaw auth telegram`)',
    );
    expect(channel.isConnected()).toBe(false);
  });

  it('loses and repeats nothing when stopped in the middle of a batch and started again', async () => {
    const a = await connect([groupJid]);
    const fileId = fake.addFile(crypto.randomBytes(2000), { filePath: 'photos/file_1.jpg' });
    const release = fake.holdDownloads();
    const ids = fake.push(
      { chat: group, from: ALICE, text: 'one' },
      { chat: group, from: ALICE, photo: [{ file_id: fileId, file_unique_id: 'p', width: 10, height: 10 }] },
      { chat: group, from: BOB, text: 'two' },
      { chat: group, from: BOB, text: 'three' },
    );
    // The batch is mid-way (the photo is downloading) when the stop arrives.
    await waitFor(() => fake.downloads.length === 1, 'the photo download to start');
    const stopped = a.channel.disconnect();
    ids.push(...fake.push({ chat: group, from: ALICE, text: 'four' }, { chat: dm, from: ALICE, text: 'five' }));
    await new Promise((r) => setTimeout(r, 50));
    release();
    await stopped;

    expect(a.messages.map((m) => m.text)).toEqual(['one', '[photo]', 'two', 'three']);
    expect(a.messages[1]!.attachments).toHaveLength(1);

    ids.push(...fake.push({ chat: dm, from: ALICE, text: 'six' }));
    const b = await connect([groupJid]);
    await waitFor(() => a.messages.length + b.messages.length >= ids.length, 'every update');
    await new Promise((r) => setTimeout(r, 200));

    const all = [...a.messages, ...b.messages].map((m) => `${m.chatJid}/${m.id}`).sort();
    const expected = ids.map((id, i) => `${i === 5 || i === 6 ? dmJid : groupJid}/${id}`).sort();
    expect(all).toEqual(expected);
    expect(b.messages.map((m) => m.text)).toEqual(['four', 'five', 'six']);
  });
});

describe('polling', () => {
  /** Time between successive getUpdates requests, by the server's clock. */
  const pollGaps = (n: number) => {
    const at = fake
      .callsTo('getUpdates')
      .slice(0, n)
      .map((c) => c.at);
    return at.slice(1).map((t, i) => t - at[i]!);
  };

  it('pauses after each empty answer from a server that does not hold getUpdates open, and still delivers', async () => {
    fake.answerUpdatesAtOnce();
    const h = await connect();
    await waitFor(() => fake.callsTo('getUpdates').length >= 4, 'four polls');
    // Three empty answers came back at once; without a floor these would be a millisecond apart.
    for (const gap of pollGaps(4)) expect(gap).toBeGreaterThanOrEqual(1000);

    fake.push({ chat: dm, from: ALICE, text: 'still listening?' });
    await waitFor(() => h.messages.length === 1, 'the message');
    expect(h.messages[0]!.text).toBe('still listening?');
  });

  it('backs off more after each failed poll, then recovers', async () => {
    fake.failNext(
      'getUpdates',
      { error_code: 409, description: 'Conflict: terminated by other getUpdates request' },
      2,
    );
    const h = await connect();
    fake.push({ chat: dm, from: ALICE, text: 'after the storm' });
    await waitFor(() => h.messages.length === 1, 'the message', 10_000);
    const [first, second] = pollGaps(3);
    expect(first).toBeGreaterThanOrEqual(1000);
    expect(second).toBeGreaterThanOrEqual(2000);
    expect(h.channel.isConnected()).toBe(true);
  });
});

describe('formatting helpers', () => {
  it('splits by paragraph, then line, then word, then hard, never past the limit', () => {
    expect(splitText('aaaa\n\nbbbb', 6)).toEqual(['aaaa', 'bbbb']);
    expect(splitText('aaaa\nbbbb', 6)).toEqual(['aaaa', 'bbbb']);
    expect(splitText('aaa bbb', 5)).toEqual(['aaa', 'bbb']);
    expect(splitText('abcdefgh', 3)).toEqual(['abc', 'def', 'gh']);
    expect(splitText('ab😀cd', 3)).toEqual(['ab', '😀c', 'd']);
    expect(splitText('   \n\n  ', 6)).toEqual([]);
  });

  it('produces MarkdownV2 that always parses, whatever the input', () => {
    const samples = [
      'plain. (with) [brackets] and {braces} + - = | ! # > ~ _ *',
      '```ts\nconst a = `x` + "\\\\";\n```\nafter',
      'unclosed **bold and `code',
      '*a**b* __x__ ~~y~~ ***z*** [t](http://e.com/a)b)',
      'snake_case_name and 2*3*4 and \\ backslash',
    ];
    for (const s of samples) expect(parseMarkdownV2(toMarkdownV2(s)), s).not.toHaveProperty('error');
  });
});

describe('bounded input from the Bot API', () => {
  it('a getUpdates answer without end is dropped and asked again; the owner hears when it repeats', async () => {
    const token = '123456:BoundedInputTestToken';
    const droppedByUs: number[] = [];
    let polls = 0;
    const server = http.createServer((req, res) => {
      const method = req.url!.split('/').pop();
      res.writeHead(200, { 'content-type': 'application/json' });
      if (method === 'getMe')
        return void res.end('{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Andy","username":"andy_bot"}}');
      if (method !== 'getUpdates') return void res.end('{"ok":true,"result":true}');
      const n = ++polls;
      if (n > 3) return void res.end('{"ok":true,"result":[]}');
      res.write('{"ok":true,"result":[{"update_id":1,"message":{"text":"');
      const chunk = 'x'.repeat(64 * 1024);
      let sent = 0;
      res.on('close', () => void (sent < 64 * 1024 * 1024 && droppedByUs.push(n)));
      const more = (): void => {
        while (!res.destroyed && sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end('"}}]}');
      };
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const notices: string[] = [];
    const states: ChannelState[] = [];
    const channel = createTelegramChannel({
      token,
      apiRoot: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      assistantName: 'Andy',
      logger: silentLogger(),
      media: mediaStore(() => null),
      pollingTimeoutSeconds: 1,
      notifyOwner: (text) => void notices.push(text),
    });
    try {
      await channel.connect({ onMessage: () => {}, onChat: () => {}, onState: (s) => void states.push(s) });
      await waitFor(() => polls >= 4, 'a fourth getUpdates', 30_000);
      expect(droppedByUs).toEqual([1, 2, 3]);
      expect(states.some((s) => !s.connected && /larger than 10 MB/.test(s.detail ?? ''))).toBe(true);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/Telegram.*larger than 10 MB.*3 times/);
      expect(notices[0]).toContain('TELEGRAM_API_ROOT');
    } finally {
      await channel.disconnect();
      server.closeAllConnections();
      server.close();
    }
  });
});
