// Delivery with the pacing plugin: a real SQLite store, a fake channel that records what
// the user would see. Order per chat, exactly once, pacing that spaces bursts
// but never holds back the first message, and a chat that waits holds up no other.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createDelivery, type Delivery } from '../../src/core/delivery/delivery.js';
import { WINDOW_MARGIN_MS, createPace, createPacer } from '../../src/plugins/pacing/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/host.js';
import { type Store } from '../../src/core/store/index.js';
import { RateLimitedError, type Channel, type ChannelPacing, type SendOptions } from '../../src/core/types.js';
import { makeHome, until } from '../support/harness.js';

interface Attempt {
  jid: string;
  text: string;
  at: number;
  ok: boolean;
}

/** A channel for `fk:` chats; `fail` decides per attempt whether (and how) a send fails. */
function fakeChannel(
  opts: { pacing?: ChannelPacing; fail?: (jid: string, text: string, n: number) => Error | null } = {},
) {
  const attempts: Attempt[] = [];
  const channel: Channel & { attempts: Attempt[]; seen(jid?: string): string[] } = {
    name: 'fake',
    sharesUserAccount: false,
    pacing: opts.pacing,
    attempts,
    ownsJid: (jid) => jid.startsWith('fk:'),
    async connect() {},
    isConnected: () => true,
    async disconnect() {},
    async sendMessage(jid, text) {
      const n = attempts.filter((a) => a.jid === jid && a.text === text).length;
      const err = opts.fail?.(jid, text, n) ?? null;
      attempts.push({ jid, text, at: Date.now(), ok: !err });
      await new Promise((r) => setImmediate(r));
      if (err) throw err;
    },
    /** What the user sees in a chat (or all chats), in order. */
    seen: (jid) => attempts.filter((a) => a.ok && (!jid || a.jid === jid)).map((a) => a.text),
  };
  return channel;
}

let dir: string;
let store: Store;
let delivery: Delivery | null;

beforeEach(() => {
  dir = makeHome('nanoclaw-delivery-');
  store = openStore(path.join(dir, 'messages.db'));
  delivery = null;
});
afterEach(() => {
  delivery?.stop();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function start(channel: Channel, retryMs = 20, paced = true): Delivery {
  delivery = createDelivery({
    store,
    channels: () => [channel],
    assistantName: 'Andy',
    logger: silentLogger(),
    onStored: () => {},
    retryMs,
    pace: paced ? createPace(() => 0.5) : undefined,
  });
  return delivery;
}

const enqueue = (jid: string, ...texts: string[]) => {
  for (const t of texts) store.outbox.enqueue(jid, t, { kind: 'tool' });
};
const history = (jid: string) => store.messages.after(jid, 0).map((m) => m.text);

describe('order and exactly once', () => {
  test('a send that fails once does not let later messages of that chat overtake it', async () => {
    const ch = fakeChannel({
      fail: (_jid, text, n) => (text === 'one' && n === 0 ? new Error('socket hang up') : null),
    });
    const d = start(ch);
    enqueue('fk:a', 'one', 'two', 'three');
    d.kick();
    await until(() => ch.seen().length === 3, 5_000, 'three messages');
    expect(ch.seen('fk:a')).toEqual(['one', 'two', 'three']);
    expect(ch.attempts.map((a) => a.text)).toEqual(['one', 'one', 'two', 'three']);
    expect(history('fk:a')).toEqual(['one', 'two', 'three']);
    expect(store.outbox.pending()).toEqual([]);
  });

  test('kicks while a burst is being sent never send a message twice', async () => {
    const ch = fakeChannel({ pacing: { perChatMs: 5 } });
    const d = start(ch);
    const texts = Array.from({ length: 20 }, (_, i) => `m${i}`);
    for (const t of texts) {
      enqueue('fk:a', t);
      d.kick();
      d.kick();
    }
    await until(() => ch.seen().length === 20, 10_000, 'twenty messages');
    for (let i = 0; i < 5; i++) d.kick();
    enqueue('fk:a', 'last');
    d.kick();
    await until(() => ch.seen().length === 21, 5_000, 'the last message');
    expect(ch.seen('fk:a')).toEqual([...texts, 'last']);
    expect(history('fk:a')).toEqual([...texts, 'last']);
  });

  test('a platform retry_after is honoured: the message arrives once, later ones after it, and a kick does not retry early', async () => {
    const ch = fakeChannel({
      fail: (_jid, text, n) =>
        text === 'first' && n === 0 ? new RateLimitedError('Too Many Requests: retry after 0.3', 300) : null,
    });
    const d = start(ch, 10);
    enqueue('fk:a', 'first', 'second');
    d.kick();
    await until(() => ch.attempts.length === 1, 5_000, 'the refused attempt');
    enqueue('fk:a', 'third');
    d.kick();
    await until(() => ch.seen().length === 3, 5_000, 'three messages');
    expect(ch.seen('fk:a')).toEqual(['first', 'second', 'third']);
    const [refused, retried] = ch.attempts;
    expect(retried!.text).toBe('first');
    expect(retried!.at - refused!.at).toBeGreaterThanOrEqual(300);
  });
});

describe('pacing', () => {
  test('a burst to one chat is spaced by the channel pacing; the first message is not held back', async () => {
    const ch = fakeChannel({ pacing: { perChatMs: 150, jitterMs: 100 } });
    const d = start(ch);
    enqueue('fk:a', 'a1', 'a2', 'a3');
    d.kick();
    await until(() => ch.seen().length === 3, 5_000, 'the burst');
    const at = ch.attempts.map((a) => a.at);
    // 150 ms plus half the jitter, from the end of one send to the start of the next.
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(200);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(200);
  });

  test('a chat waiting out its pacing holds up no other chat', async () => {
    const ch = fakeChannel({ pacing: { perChatMs: 60_000 } });
    const d = start(ch);
    enqueue('fk:a', 'a1', 'a2');
    d.kick();
    // The first message of a quiet chat goes out at once, even under a one-minute gap.
    await until(() => ch.seen('fk:a').length === 1, 5_000, 'the first message to a');
    enqueue('fk:b', 'b1');
    d.kick();
    await until(() => ch.seen('fk:b').length === 1, 5_000, 'the message to b');
    expect(ch.seen()).toEqual(['a1', 'b1']);
    expect(store.outbox.pending().map((i) => i.text)).toEqual(['a2']);
  });

  test('the channel-wide limit holds across chats', async () => {
    const ch = fakeChannel({ pacing: { perChatMs: 0, perChannelPerSecond: 2 } });
    const d = start(ch);
    for (const jid of ['fk:a', 'fk:b', 'fk:c']) enqueue(jid, `to ${jid}`);
    d.kick();
    await until(() => ch.seen().length === 3, 5_000, 'three chats');
    const at = ch.attempts.map((a) => a.at).sort((x, y) => x - y);
    expect(at[2]! - at[0]!).toBeGreaterThanOrEqual(1_000);
  });

  test('without the pacing plugin, a channel that declares pacing sends a burst back to back', async () => {
    const ch = fakeChannel({ pacing: { perChatMs: 60_000 } });
    const d = start(ch, 20, false);
    enqueue('fk:a', 'a1', 'a2', 'a3');
    d.kick();
    await until(() => ch.seen().length === 3, 5_000, 'the burst');
    expect(ch.seen('fk:a')).toEqual(['a1', 'a2', 'a3']);
  });

  test('a channel without pacing (local) sends a burst back to back', async () => {
    const ch = fakeChannel();
    const d = start(ch);
    enqueue('fk:a', ...Array.from({ length: 50 }, (_, i) => `m${i}`));
    d.kick();
    await until(() => ch.seen().length === 50, 5_000, 'fifty messages');
    expect(ch.seen('fk:a')).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
  });
});

describe('pacer windows', () => {
  const tg: ChannelPacing = {
    perChatMs: 1_000,
    perGroupChatPerMinute: 20,
    perChannelPerSecond: 30,
    isGroupChat: (j) => j.startsWith('g:'),
  };

  test('a group chat gets at most its per-minute count, a private chat only the per-chat gap', () => {
    const p = createPacer(() => 0);
    let now = 1_000_000;
    for (let i = 0; i < 20; i++) {
      expect(p.wait('tg', tg, 'g:1', now)).toBe(0);
      p.started('tg', tg, 'g:1', now);
      p.ended('tg', tg, 'g:1', now);
      now += 1_000;
    }
    // The 21st waits until the first leaves the one-minute window (and its margin).
    expect(p.wait('tg', tg, 'g:1', now)).toBe(40_000 + WINDOW_MARGIN_MS);
    expect(p.wait('tg', tg, 'p:1', now)).toBe(0);
  });

  test('the channel-wide per-second limit counts every chat', () => {
    const p = createPacer(() => 0);
    const now = 5_000_000;
    for (let i = 0; i < 30; i++) p.started('tg', tg, `p:${i}`, now);
    expect(p.wait('tg', tg, 'p:99', now)).toBe(1_000 + WINDOW_MARGIN_MS);
    expect(p.wait('tg', tg, 'p:99', now + 1_000 + WINDOW_MARGIN_MS)).toBe(0);
  });
});

describe('a file with the message (send_message file)', () => {
  const mediaFile = (name: string) => {
    const p = path.join(dir, `${'0'.repeat(36)}-${name}`);
    fs.writeFileSync(p, Buffer.from('89504e470d0a1a0a', 'hex'));
    return p;
  };

  test('a channel that sends files gets the file with the text as caption; the copy is removed once sent', async () => {
    const ch = fakeChannel();
    const sent: { jid: string; fileName: string; mimeType: string; caption: string }[] = [];
    ch.sendMedia = async (jid, media, caption) => {
      sent.push({ jid, fileName: media.fileName, mimeType: media.mimeType, caption });
    };
    const file = mediaFile('page.png');
    store.outbox.enqueue('fk:a', 'The page', { kind: 'tool', mediaPath: file });
    start(ch).kick();
    await until(() => history('fk:a').length === 1, 5_000, 'the message in the history');
    expect(sent).toEqual([{ jid: 'fk:a', fileName: 'page.png', mimeType: 'image/png', caption: 'The page' }]);
    expect(ch.seen()).toEqual([]);
    expect(history('fk:a')).toEqual(['The page\n[file: page.png]']);
    expect(fs.existsSync(file)).toBe(false);
  });

  test('a channel without files gets the text and a note that the file could not go', async () => {
    const ch = fakeChannel();
    store.outbox.enqueue('fk:a', 'The page', { kind: 'tool', mediaPath: mediaFile('page.png') });
    start(ch).kick();
    await until(() => ch.seen().length === 1, 5_000, 'the text');
    expect(ch.seen()[0]).toBe('The page\n[page.png could not be sent: this chat app takes no files here]');
  });
});

describe('what a channel is told so the platform can refuse a second copy', () => {
  test('each attempt carries the item id; in flight at a crash or after a failure means maybe sent', async () => {
    const seen: { text: string; opts: SendOptions | undefined }[] = [];
    const ch: Channel = {
      ...fakeChannel(),
      async sendMessage(_jid, text, opts) {
        seen.push({ text, opts });
        if (text === 'two' && seen.filter((s) => s.text === 'two').length === 1) throw new Error('socket hang up');
      },
    };
    const one = store.outbox.enqueue('fk:a', 'one');
    const two = store.outbox.enqueue('fk:a', 'two');
    const three = store.outbox.enqueue('fk:a', 'three');
    // As a host killed mid-send leaves it: the send of 'one' had started.
    store.outbox.markSending(one);
    start(ch).kick();
    await until(() => store.outbox.pending().length === 0, 5_000, 'the outbox to empty');
    expect(seen.map((s) => [s.text, s.opts?.outboxId, s.opts?.maybeSent])).toEqual([
      ['one', one, true],
      ['two', two, false],
      ['two', two, true],
      ['three', three, false],
    ]);
    // The key is the same on every attempt of an item, and differs between items.
    const keys = seen.map((s) => s.opts?.outboxKey);
    expect(keys[1]).toBe(keys[2]);
    expect(new Set(keys).size).toBe(3);
  });
});

describe('the window where the platform has a reply and the outbox does not know', () => {
  // A kill in that window sends the reply again on Telegram and Signal, so nothing may wait in it: no
  // timer, no I/O, no second transaction between the channel's answer and the mark.
  test('the item is marked sent before the event loop takes another turn after the channel answers', async () => {
    const looks: string[] = [];
    const look = () => (store.outbox.pending().length ? 'not marked' : 'marked');
    const ch: Channel = {
      ...fakeChannel({ pacing: { perChatMs: 1 } }),
      async sendMessage() {
        // The platform has just taken it.
        setImmediate(() => looks.push(`next I/O turn: ${look()}`));
        setTimeout(() => looks.push(`next timer: ${look()}`), 0);
      },
    };
    enqueue('fk:a', 'one');
    start(ch).kick();
    await until(() => looks.length === 2, 5_000, 'both turns');
    expect(looks.sort()).toEqual(['next I/O turn: marked', 'next timer: marked']);
    expect(history('fk:a')).toEqual(['one']);
  });
});
