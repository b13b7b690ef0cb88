// The Signal channel's pure parts and its protocol edges: signal-cli receive
// payloads (in the shapes signal-cli's JSON-RPC emits) to messages, Markdown to
// text styles, chat ids, the SSE receive loop over a real local HTTP stream, the
// daemon check behind `nanoclaw auth signal`, and the channel against a fake
// signal-cli (owner by sync message, no duplicates, styles on send).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runEventStream } from '../../../src/plugins/signal/events.js';
import { toSignalText } from '../../../src/plugins/signal/format.js';
import { parseReceive, signalMessageId } from '../../../src/plugins/signal/inbound.js';
import { isSignalDirectChat, signalTarget } from '../../../src/plugins/signal/jids.js';
import { checkSignalDaemon, signalPlugin, signalSettings } from '../../../src/plugins/signal/plugin.js';
import { createSignalChannel } from '../../../src/plugins/signal/signal.js';
import { loadConfig } from '../../../src/core/config/config.js';
import { homePaths } from '../../../src/core/config/home.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { ChannelState, Message } from '../../../src/core/types.js';
import { startFakeSignalCli, type FakeSignalCli } from '../../support/fake-signal-cli.js';
import { until } from '../../support/harness.js';
import { mediaStore } from '../../../src/plugins/media/index.js';

const ACCOUNT = '+15550000000';
const opts = { account: ACCOUNT, assistantName: 'Andy' };

describe('parseReceive on signal-cli payloads', () => {
  const base = {
    source: '+15551234567',
    sourceNumber: '+15551234567',
    sourceUuid: '0d2b3c4e-1111-4222-8333-944455556666',
    sourceName: 'Alice Smith',
    sourceDevice: 1,
    timestamp: 1700000000123,
  };

  test('a direct text message', () => {
    const m = parseReceive(
      {
        account: ACCOUNT,
        envelope: {
          ...base,
          dataMessage: { timestamp: 1700000000123, message: 'hi', expiresInSeconds: 0, viewOnce: false } as any,
        },
      },
      opts,
    );
    expect(m).toMatchObject({
      id: '+15551234567:1700000000123',
      chatJid: 'sig:+15551234567',
      isGroup: false,
      author: '+15551234567',
      authorName: 'Alice Smith',
      text: 'hi',
      fromAccount: false,
      mentionsAccount: false,
      quote: null,
    });
  });

  test('a group message names the group chat and where its attachments are fetched', () => {
    const m = parseReceive(
      {
        envelope: {
          ...base,
          dataMessage: {
            timestamp: 1700000000123,
            message: null,
            groupInfo: { groupId: 'aGVsbG8gZ3JvdXA=', groupName: 'Climbers' },
            attachments: [{ contentType: 'image/jpeg', filename: null, id: 'aBc123.jpg', size: 2048 }],
          },
        },
      },
      opts,
    )!;
    expect(m.chatJid).toBe('sig:g:aGVsbG8gZ3JvdXA=');
    expect(m.chatName).toBe('Climbers');
    expect(m.attachments).toHaveLength(1);
    expect(m.attachmentSource).toEqual({ groupId: 'aGVsbG8gZ3JvdXA=' });
  });

  test('mentions are written out; one of the account becomes the assistant and marks the message', () => {
    const m = parseReceive(
      {
        envelope: {
          ...base,
          dataMessage: {
            timestamp: 1,
            message: '\uFFFC and \uFFFC: lunch?',
            mentions: [
              { name: 'Bob', number: '+15550001111', uuid: 'b', start: 0, length: 1 },
              { name: ACCOUNT, number: ACCOUNT, uuid: 'a', start: 6, length: 1 },
            ],
          },
        },
      },
      opts,
    )!;
    expect(m.text).toBe('@Bob and @Andy: lunch?');
    expect(m.mentionsAccount).toBe(true);
  });

  test("a quote of the account's message is a reply to the assistant, with the quoted message's id", () => {
    const m = parseReceive(
      {
        envelope: {
          ...base,
          dataMessage: {
            timestamp: 5,
            message: 'and then?',
            quote: {
              id: 1699999999000,
              author: ACCOUNT,
              authorNumber: ACCOUNT,
              authorUuid: 'a',
              text: 'Earlier answer.',
            },
          },
        },
      },
      opts,
    )!;
    expect(m.quote).toEqual({
      id: signalMessageId(ACCOUNT, 1699999999000),
      text: 'Earlier answer.',
      author: ACCOUNT,
      byAccount: true,
    });
  });

  test("the owner's own messages from their phone arrive as sync messages: Note to Self and other chats", () => {
    const own = { source: ACCOUNT, sourceNumber: ACCOUNT, sourceName: 'Me', sourceDevice: 1, timestamp: 9 };
    const self = parseReceive(
      {
        envelope: {
          ...own,
          syncMessage: {
            sentMessage: { destination: ACCOUNT, destinationNumber: ACCOUNT, timestamp: 9, message: 'note' },
          },
        },
      },
      opts,
    )!;
    expect(self).toMatchObject({ chatJid: `sig:${ACCOUNT}`, fromAccount: true, text: 'note' });
    const toBob = parseReceive(
      {
        envelope: {
          ...own,
          syncMessage: {
            sentMessage: {
              destination: '+15550001111',
              destinationNumber: '+15550001111',
              timestamp: 10,
              message: 'hi Bob',
            },
          },
        },
      },
      opts,
    )!;
    expect(toBob).toMatchObject({ chatJid: 'sig:+15550001111', fromAccount: true });
  });

  test('receipts, typing, reactions and read syncs carry nothing to store', () => {
    expect(
      parseReceive({ envelope: { ...base, receiptMessage: { when: 1, isDelivery: true, timestamps: [1] } } }, opts),
    ).toBeNull();
    expect(
      parseReceive({ envelope: { ...base, typingMessage: { action: 'STARTED', timestamp: 1 } } }, opts),
    ).toBeNull();
    expect(
      parseReceive(
        { envelope: { ...base, dataMessage: { timestamp: 2, message: null, reaction: { emoji: '👍' } } as any } },
        opts,
      ),
    ).toBeNull();
    expect(parseReceive({ envelope: { ...base, syncMessage: { readMessages: [] } as any } }, opts)).toBeNull();
  });
});

test('Markdown becomes text styles at UTF-16 offsets, with the markers dropped', () => {
  expect(toSignalText('**Bold** and *it* and `x = 1`')).toEqual({
    text: 'Bold and it and x = 1',
    styles: ['0:4:BOLD', '9:2:ITALIC', '16:5:MONOSPACE'],
  });
  // An emoji is two UTF-16 units: the offsets count them as Signal does.
  expect(toSignalText('🎉 **yes**')).toEqual({ text: '🎉 yes', styles: ['3:3:BOLD'] });
  expect(toSignalText('```js\nconst a = 1;\n```')).toEqual({ text: 'const a = 1;', styles: ['0:12:MONOSPACE'] });
  expect(toSignalText('snake_case and 2*3*4 stay')).toEqual({ text: 'snake_case and 2*3*4 stay', styles: [] });
});

test('chat ids', () => {
  expect(signalTarget('sig:+15551234567')).toEqual({ recipient: '+15551234567' });
  expect(signalTarget('sig:g:aGVsbG8=')).toEqual({ groupId: 'aGVsbG8=' });
  expect(signalTarget('tg:123')).toBeNull();
  expect(isSignalDirectChat('sig:+15551234567')).toBe(true);
  expect(isSignalDirectChat('sig:g:aGVsbG8=')).toBe(false);
});

test('the receive loop reassembles split events, keeps order, and reconnects when the stream ends', async () => {
  let connections = 0;
  const server = http.createServer((_req, res) => {
    connections++;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (connections === 1) {
      // One event cut mid-line, a keepalive comment, then the stream ends.
      res.write('event:receive\ndata:{"n":');
      setTimeout(() => res.end('1}\n\n:\n\n'), 20);
    } else {
      res.write('event:receive\ndata:{"n":2}\n\n');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const stop = new AbortController();
  const got: number[] = [];
  const states: boolean[] = [];
  const loop = runEventStream({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/events`,
    signal: stop.signal,
    minBackoffMs: 10,
    onEvent: async (d) => void got.push(JSON.parse(d).n),
    onState: (ok) => void states.push(ok),
  });
  await until(() => got.length >= 2, 5_000, 'both events');
  stop.abort();
  await loop;
  server.closeAllConnections();
  server.close();
  expect(got).toEqual([1, 2]);
  // A stream that ended after carrying events is opened again without showing the channel as down.
  expect(states).not.toContain(false);
});

test('a stream that goes quiet is taken for dead and opened again; a daemon that is down is reported', async () => {
  let connections = 0;
  const server = http.createServer((_req, res) => {
    connections++;
    if (connections === 2) {
      res.writeHead(503).end('starting');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    // The first connection says nothing at all, as a half-dead TCP connection would.
    if (connections > 2) res.write('event:receive\ndata:{"n":3}\n\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const stop = new AbortController();
  const got: number[] = [];
  const states: [boolean, string][] = [];
  const loop = runEventStream({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/events`,
    signal: stop.signal,
    minBackoffMs: 10,
    idleMs: 200,
    onEvent: async (d) => void got.push(JSON.parse(d).n),
    onState: (ok, detail) => void states.push([ok, detail]),
  });
  await until(() => got.length >= 1, 5_000, 'the event after the reconnect');
  stop.abort();
  await loop;
  server.closeAllConnections();
  server.close();
  expect(got).toEqual([3]);
  expect(states.filter(([ok]) => !ok).map(([, d]) => d)).toEqual([expect.stringContaining('HTTP 503')]);
});

describe('the daemon check and the channel, against a fake signal-cli', () => {
  let sig: FakeSignalCli;
  beforeAll(async () => {
    sig = await startFakeSignalCli(ACCOUNT);
  });
  afterAll(async () => {
    await sig?.close();
  });

  test('auth checks the daemon answers and serves the account, and names the command to run when not', async () => {
    expect(await checkSignalDaemon(sig.url, ACCOUNT)).toBe(`signal-cli 0.13.4 answers at ${sig.url}`);
    await expect(checkSignalDaemon(sig.url, '+15559998888')).rejects.toThrow(
      /does not serve \+15559998888 \(it has: \+15550000000\).*signal-cli -a \+15559998888 daemon --http 127\.0\.0\.1:8080/,
    );
    await expect(checkSignalDaemon('http://127.0.0.1:9', ACCOUNT)).rejects.toThrow(
      /did not answer version.*signal-cli -a \+15550000000 daemon --http 127\.0\.0\.1:8080/,
    );
  });

  test('settings and doctor', () => {
    expect(() => signalSettings({ SIGNAL_ACCOUNT: '15550000000' })).toThrow(/country code/);
    const config = loadConfig({ NANOCLAW_HOME: '/tmp/nanoclaw-signal-unit' }, '/tmp');
    const env = (e: Record<string, string>) => ({ config, paths: homePaths('/tmp/nanoclaw-signal-unit'), env: e });
    expect(signalPlugin.configured(env({ SIGNAL_CLI_URL: sig.url }))).toBe(false);
    expect(signalPlugin.configured(env({ SIGNAL_CLI_URL: sig.url, SIGNAL_ACCOUNT: ACCOUNT }))).toBe(true);
    expect(signalPlugin.doctor!(env({ SIGNAL_CLI_URL: sig.url }))[0]).toMatchObject({
      level: 'fail',
      detail: 'SIGNAL_ACCOUNT is missing',
    });
    expect(signalPlugin.doctor!(env({}))[0]!.level).toBe('info');
  });

  test('sync messages are the owner, a repeated event is taken once, and replies carry text styles', async () => {
    const got: Message[] = [];
    const ch = createSignalChannel({
      url: sig.url,
      account: ACCOUNT,
      sharesUserAccount: true,
      assistantName: 'Andy',
      logger: silentLogger(),
      media: mediaStore(() => null),
    });
    await ch.connect({ onMessage: (m) => got.push(m), onChat: () => {} });
    await sig.streaming();
    expect(ch.selfJid?.()).toBe(`sig:${ACCOUNT}`);
    const sync = {
      source: ACCOUNT,
      sourceNumber: ACCOUNT,
      sourceName: 'Me',
      timestamp: 42,
      syncMessage: { sentMessage: { destinationNumber: ACCOUNT, timestamp: 42, message: 'remind me' } },
    };
    sig.push(sync);
    sig.push(sync);
    sig.push({
      source: '+15551234567',
      sourceNumber: '+15551234567',
      sourceName: 'Mallory',
      timestamp: 43,
      dataMessage: { timestamp: 43, message: 'I am the owner' },
    });
    await until(() => got.length >= 2, 5_000, 'two messages');
    expect(got.map((m) => [m.chatJid, m.text, m.fromMe])).toEqual([
      [`sig:${ACCOUNT}`, 'remind me', true],
      ['sig:+15551234567', 'I am the owner', false],
    ]);
    // A group message without its name: the name is asked for, so the chat can be registered by it.
    const chats: { jid: string; name?: string }[] = [];
    const ch2 = createSignalChannel({
      url: sig.url,
      account: ACCOUNT,
      sharesUserAccount: false,
      assistantName: 'Andy',
      logger: silentLogger(),
      media: mediaStore(() => null),
    });
    await ch2.connect({ onMessage: () => {}, onChat: (c) => chats.push(c) });
    await until(() => sig.lastEventIds.length >= 2, 5_000, 'the second stream');
    sig.push({
      source: '+15551234567',
      sourceNumber: '+15551234567',
      sourceName: 'Alice',
      timestamp: 44,
      dataMessage: { timestamp: 44, message: 'hi all', groupInfo: { groupId: 'signal-group-1' } },
    });
    await until(() => chats.some((c) => c.name === 'Signal club'), 5_000, 'the group name');
    expect(chats.find((c) => c.name === 'Signal club')).toMatchObject({ jid: 'sig:g:signal-group-1' });
    await ch2.disconnect();
    await ch.sendMessage('sig:+15551234567', '**Done**: `ok`');
    expect(sig.sent().pop()).toMatchObject({
      account: ACCOUNT,
      recipient: '+15551234567',
      message: 'Done: ok',
      textStyle: ['0:4:BOLD', '6:2:MONOSPACE'],
    });
    await ch.disconnect();
  });

  test('events signal-cli got while the stream was down, or NanoClaw was stopped, still arrive, once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-signal-cursor-'));
    const got: string[] = [];
    const make = () =>
      createSignalChannel({
        url: sig.url,
        account: ACCOUNT,
        sharesUserAccount: false,
        assistantName: 'Andy',
        logger: silentLogger(),
        media: mediaStore(() => null),
        minBackoffMs: 10,
        cursorFile: path.join(dir, 'signal-last-event-id'),
      });
    const dm = (n: number, text: string) => ({
      source: '+15551230000',
      sourceNumber: '+15551230000',
      sourceName: 'Bea',
      timestamp: 5000 + n,
      dataMessage: { timestamp: 5000 + n, message: text },
    });
    let ch = make();
    await ch.connect({ onMessage: (m) => got.push(m.text), onChat: () => {} });
    await sig.streaming();
    sig.push(dm(1, 'one'));
    await until(() => got.includes('one'), 5_000, 'the first message');
    const streamsBefore = sig.lastEventIds.length;
    sig.dropStreams();
    sig.push(dm(2, 'two, while the stream was down'));
    await until(() => got.includes('two, while the stream was down'), 5_000, 'the message sent during the drop');
    expect(sig.lastEventIds.length).toBeGreaterThan(streamsBefore);
    await ch.disconnect();

    sig.push(dm(3, 'three, while NanoClaw was stopped'));
    ch = make();
    await ch.connect({ onMessage: (m) => got.push(m.text), onChat: () => {} });
    await until(() => got.includes('three, while NanoClaw was stopped'), 5_000, 'the message sent while stopped');
    await ch.disconnect();
    expect(got.filter((t) => t.startsWith('one') || t.startsWith('two') || t.startsWith('three'))).toEqual([
      'one',
      'two, while the stream was down',
      'three, while NanoClaw was stopped',
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

test('an event stream that sends one endless line is dropped and reopened, and the owner hears when it repeats', async () => {
  // A daemon whose event stream sends "data:xxxx…" without ever ending the line, on every connection,
  // until the fourth, which behaves.
  const opened: number[] = [];
  const droppedByUs: number[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"jsonrpc":"2.0","id":1,"result":{"version":"0.13.9"}}');
      return;
    }
    const n = ++connections;
    opened.push(n);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (n > 3) {
      res.write(`event:receive\ndata:${JSON.stringify({ envelope: { source: '+15550000009', timestamp: 1 } })}\n\n`);
      return;
    }
    res.write('event:receive\ndata:');
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    req.socket.on('close', () => {
      // Closed by the reader before we stopped (at 64 MB, far past any sane event).
      if (sent < 64 * 1024 * 1024) droppedByUs.push(n);
    });
    const more = (): void => {
      while (!res.destroyed && sent < 64 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
    };
    more();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const notices: string[] = [];
  const states: ChannelState[] = [];
  const channel = createSignalChannel({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    account: '+15550000000',
    sharesUserAccount: false,
    assistantName: 'Andy',
    logger: silentLogger(),
    media: mediaStore(() => null),
    minBackoffMs: 10,
    notifyOwner: (text) => void notices.push(text),
  });
  try {
    await channel.connect({ onMessage: () => {}, onChat: () => {}, onState: (s) => void states.push(s) });
    await until(() => droppedByUs.length >= 3 && opened.length >= 4, 20_000, 'three drops and a fourth connection');
    expect(droppedByUs).toEqual([1, 2, 3]);
    // The channel said why it was down, in words.
    expect(states.some((s) => !s.connected && /larger than 1 MB/.test(s.detail ?? ''))).toBe(true);
    // Told once, with what to check.
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/Signal.*larger than 1 MB.*3 times/);
    expect(notices[0]).toContain('SIGNAL_CLI_URL');
  } finally {
    await channel.disconnect();
    server.closeAllConnections();
    server.close();
  }
});
