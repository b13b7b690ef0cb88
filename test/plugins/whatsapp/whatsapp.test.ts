// The WhatsApp channel against recorded Baileys 7 events at the socket
// boundary: what the host receives, what lands in the inbox and identity map,
// and how the connection behaves when WhatsApp drops or unlinks it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BufferJSON, initAuthCreds } from 'baileys';
import { afterEach, describe, expect, it } from 'vitest';
import { createWhatsAppChannel, type WhatsAppChannelOptions } from '../../../src/plugins/whatsapp/whatsapp.js';
import { inboxFileName, toNumber } from '../../../src/plugins/whatsapp/messages.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openDatabase, type DB } from '../../../src/core/store/db.js';
import { identityQueries } from '../../../src/plugins/whatsapp/identities.js';
import { messageQueries } from '../../../src/core/store/messages.js';
import type { ChannelState, ChatInfo, Message } from '../../../src/core/types.js';
import { REFUSED_NOTE } from '../../../src/core/channels/plugin.js';
import {
  fakeMediaServer,
  fakeSocketFactory,
  loadFixture,
  type FakeSocketOptions,
} from '../../support/fake-baileys-socket.js';
import { mediaStore } from '../../../src/plugins/media/index.js';

const ALICE = '447700900123@s.whatsapp.net';
const ALICE_LID = '98765432109876@lid';
const BOB = '447700900456@s.whatsapp.net';
const BOB_LID = '123456789012345@lid';
const ME = '447700900001@s.whatsapp.net';
const FAMILY = '120363025246125888@g.us';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function waitFor(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 30));

function setup(
  over: Partial<WhatsAppChannelOptions> & { stagingDir?: string } = {},
  fake: FakeSocketOptions = {},
  shared?: { db: DB; home: string },
) {
  const home = shared?.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-wa-'));
  const db = shared?.db ?? openDatabase(':memory:');
  const identities = identityQueries(db);
  const factory = fakeSocketFactory({ groups: loadFixture('groups-participating.json'), ...fake });
  const bytes = loadFixture<Record<string, string>>('media-bytes.json');
  const messages: Message[] = [];
  const chats: ChatInfo[] = [];
  const states: ChannelState[] = [];
  const linkLost: string[] = [];
  const downloads: string[] = [];
  const channel = createWhatsAppChannel({
    authDir: path.join(home, 'store', 'auth', 'whatsapp'),
    assistantName: 'Andy',
    hasOwnNumber: false,
    logger: silentLogger(),
    // Alice's DM and the family group are registered; other chats are not.
    media: mediaStore(
      (jid) =>
        jid === ALICE
          ? path.join(home, 'groups', 'alice', 'inbox')
          : jid === FAMILY
            ? path.join(home, 'groups', 'family', 'inbox')
            : null,
      over.stagingDir,
    ),
    identities,
    makeSocket: factory.makeSocket,
    downloadMedia: async (msg) => {
      downloads.push(msg.key.id!);
      return Buffer.from(bytes[msg.key.id!], 'base64');
    },
    reconnectDelays: [10, 20],
    onLinkLost: (reason) => linkLost.push(reason),
    ...over,
  });
  const events = {
    onMessage: (m: Message) => messages.push(m),
    onChat: (c: ChatInfo) => chats.push(c),
    onState: (s: ChannelState) => states.push(s),
  };
  cleanups.push(async () => {
    await channel.disconnect();
    if (!shared) {
      db.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
  /** Connects and brings the first socket up. */
  async function online() {
    await channel.connect(events);
    factory.latest().open();
    await waitFor(() => channel.isConnected(), 'connection');
    return factory.latest();
  }
  return {
    home,
    db,
    identities,
    factory,
    channel,
    events,
    messages,
    chats,
    states,
    linkLost,
    downloads,
    bytes,
    online,
  };
}

describe('WhatsApp messages', () => {
  it('turns a text message into a Message from one identity', async () => {
    const t = setup();
    const sock = await t.online();
    sock.replay(loadFixture('message-text.json'));
    await waitFor(() => t.messages.length === 1, 'message');
    expect(t.messages[0]).toEqual({
      id: '3A5F0C2B9E1D4A7B8C6E',
      chatJid: ALICE,
      sender: ALICE,
      senderName: 'Alice Smith',
      text: "@Andy what's on my calendar tomorrow?",
      timestamp: '2024-06-10T09:33:21.000Z',
      fromMe: false,
      fromAssistant: false,
      replyTo: null,
    });
    // Baileys gave her LID alongside: it now points at her phone JID.
    expect(t.identities.canonical(ALICE_LID)).toBe(ALICE);
  });

  it('keeps the quoted message of a reply: its id, text and sender', async () => {
    const t = setup();
    const sock = await t.online();
    sock.replay(loadFixture('message-text.json'));
    sock.replay(loadFixture('message-quoted-reply.json'));
    await waitFor(() => t.messages.length === 2, 'messages');
    const reply = t.messages[1];
    expect(reply.chatJid).toBe(FAMILY);
    expect(reply.sender).toBe(BOB);
    expect(reply.text).toBe('@Andy is this still right?');
    // The quoted author came as a LID; Alice's earlier message linked it to her number.
    expect(reply.replyTo).toEqual({ id: '3A1B2C3D4E5F60718293', text: 'Dinner moved to 8pm on Friday', sender: ALICE });
  });

  it('saves an image into the chat inbox under a generated name, with the right bytes', async () => {
    const t = setup();
    const sock = await t.online();
    sock.replay(loadFixture('message-image.json'));
    await waitFor(() => t.messages.length === 1, 'message');
    const msg = t.messages[0];
    expect(msg.text).toBe('[image]');
    expect(msg.attachments).toHaveLength(1);
    const [att] = msg.attachments!;
    expect(att.kind).toBe('image');
    expect(att.mimeType).toBe('image/jpeg');
    expect(att.path).toMatch(/^inbox\/\d{13}-[0-9a-f]{8}\.jpg$/);
    const saved = fs.readFileSync(path.join(t.home, 'groups', 'alice', att.path));
    expect(saved.equals(Buffer.from(t.bytes['3A9C1E5B7D2F4A6C8E0B'], 'base64'))).toBe(true);
  });

  it('saves a voice note from a LID-addressed group member as audio', async () => {
    const t = setup();
    const sock = await t.online();
    sock.replay(loadFixture('message-voice-note.json'));
    await waitFor(() => t.messages.length === 1, 'message');
    const msg = t.messages[0];
    expect(msg.text).toBe('[voice message]');
    expect(msg.sender).toBe(ALICE);
    expect(msg.senderName).toBe('Alice Smith');
    expect(msg.attachments).toEqual([
      {
        kind: 'audio',
        path: expect.stringMatching(/^inbox\/\d+-[0-9a-f]{8}\.ogg$/),
        mimeType: 'audio/ogg; codecs=opus',
      },
    ]);
    const saved = fs.readFileSync(path.join(t.home, 'groups', 'family', msg.attachments![0].path));
    expect(saved.equals(Buffer.from(t.bytes['AC3F5B2E91D84C07A6F1E2D3B4C5A697'], 'base64'))).toBe(true);
  });

  it('does not download media for unregistered chats, nor media over the size cap', async () => {
    const t = setup({ media: mediaStore(() => null) });
    const sock = await t.online();
    sock.replay(loadFixture('message-image.json'));
    await waitFor(() => t.messages.length === 1, 'message');
    expect(t.messages[0].text).toBe('[image]');
    expect(t.messages[0].attachments).toBeUndefined();
    expect(t.downloads).toEqual([]);

    const small = setup({ maxMediaBytes: 100 });
    const sock2 = await small.online();
    sock2.replay(loadFixture('message-image.json'));
    await waitFor(() => small.messages.length === 1, 'message');
    expect(small.messages[0].attachments).toBeUndefined();
    expect(
      fs.existsSync(path.join(small.home, 'groups', 'alice', 'inbox'))
        ? fs.readdirSync(path.join(small.home, 'groups', 'alice', 'inbox'))
        : [],
    ).toEqual([]);
  });

  it('writes nothing through an inbox the agent swaps for a link mid-download; the message still arrives', async () => {
    const media = fakeMediaServer({ '3A9C1E5B7D2F4A6C8E0B': Buffer.from('attacker-chosen bytes') });
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-wa-staging-'));
    const t = setup({ downloadMedia: media.download, stagingDir: staging });
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-wa-outside-'));
    cleanups.push(() => fs.rmSync(outside, { recursive: true, force: true }));
    cleanups.push(() => fs.rmSync(staging, { recursive: true, force: true }));
    const inbox = path.join(t.home, 'groups', 'alice', 'inbox');
    fs.mkdirSync(inbox, { recursive: true });
    const sock = await t.online();
    const release = media.holdDownloads();
    sock.replay(loadFixture('message-image.json'));
    // The channel has decided where the image goes and is waiting for the bytes: now the agent strikes.
    await waitFor(() => media.requested.length === 1, 'the download to start');
    fs.rmSync(inbox, { recursive: true });
    fs.symlinkSync(outside, inbox);
    release();
    await waitFor(() => t.messages.length === 1, 'message');

    expect(fs.readdirSync(outside)).toEqual([]);
    expect(t.messages[0].text).toBe(`[image]${REFUSED_NOTE}`);
    expect(t.messages[0].attachments).toBeUndefined();
    // Nothing is left half-done in the staging folder either.
    expect(fs.readdirSync(staging)).toEqual([]);
  });

  it('maps a LID sender to the phone identity, and remembers it across restarts', async () => {
    const t = setup();
    const sock = await t.online();
    sock.replay(loadFixture('message-lid.json'));
    await waitFor(() => t.messages.length === 3, 'messages');
    const [first, second, dm] = t.messages;
    expect(first.sender).toBe(BOB);
    // No alternate id this time: the stored link decides.
    expect(second.sender).toBe(BOB);
    // A DM that arrives addressed to the LID is the same chat as his phone JID.
    expect(dm.chatJid).toBe(BOB);
    expect(dm.sender).toBe(BOB);
    expect(t.db.prepare('SELECT alias, canonical FROM identity_map WHERE alias = ?').get(BOB_LID)).toEqual({
      alias: BOB_LID,
      canonical: BOB,
    });

    // A new channel on the same database knows Bob's LID without being told again.
    const again = setup({}, {}, { db: t.db, home: t.home });
    const sock2 = await again.online();
    sock2.replay([loadFixture('message-lid.json')[1]]);
    await waitFor(() => again.messages.length === 1, 'message');
    expect(again.messages[0].sender).toBe(BOB);
  });

  it('skips reactions, protocol messages, status updates and key distribution', async () => {
    const t = setup();
    const sock = await t.online();
    sock.replay(loadFixture('messages-skipped.json'));
    sock.replay(loadFixture('message-text.json'));
    await waitFor(() => t.messages.length >= 1, 'message');
    await settle();
    expect(t.messages.map((m) => m.id)).toEqual(['3A5F0C2B9E1D4A7B8C6E']);
  });

  it('keeps the order of messages that arrive in one buffered batch', async () => {
    const t = setup();
    const sock = await t.online();
    sock.ev.buffer();
    sock.replay(loadFixture('message-image.json'));
    sock.replay(loadFixture('message-text.json'));
    sock.ev.flush();
    await waitFor(() => t.messages.length === 2, 'messages');
    expect(t.messages.map((m) => m.id)).toEqual(['3A9C1E5B7D2F4A6C8E0B', '3A5F0C2B9E1D4A7B8C6E']);
  });

  it('delivers a duplicate upsert twice as the same Message, which the store keeps once', async () => {
    const t = setup();
    const sock = await t.online();
    sock.replay(loadFixture('message-text.json'));
    sock.replay(loadFixture('message-text.json'));
    await waitFor(() => t.messages.length === 2, 'messages');
    expect(t.messages[1]).toEqual(t.messages[0]);
    const store = messageQueries(t.db);
    expect(store.insert(t.messages[0], 'whatsapp')).toBeTypeOf('number');
    expect(store.insert(t.messages[1], 'whatsapp')).toBeNull();
    expect(store.recent(ALICE, 10)).toHaveLength(1);
  });
});

describe('WhatsApp mentions and replies to the assistant', () => {
  const inGroup = (id: string, text: string, contextInfo: object) => ({
    key: { remoteJid: FAMILY, fromMe: false, id, participant: BOB },
    messageTimestamp: 1767225600,
    pushName: 'Bob',
    message: { extendedTextMessage: { text, contextInfo } },
  });

  it('own number: an @mention of the account (by number or LID) addresses the assistant', async () => {
    const t = setup({ hasOwnNumber: true });
    const sock = await t.online();
    sock.ev.emit('messages.upsert', {
      type: 'notify',
      messages: [
        inGroup('M1', '@447700900001 what time?', { mentionedJid: [ME] }),
        inGroup('M2', '@215089355554821 and now?', { mentionedJid: ['215089355554821@lid'] }),
        inGroup('M3', '@Alice look', { mentionedJid: [ALICE] }),
      ] as any,
    });
    await waitFor(() => t.messages.length === 3, 'messages');
    expect(t.messages.map((m) => !!m.mentionsAssistant)).toEqual([true, true, false]);
  });

  it("shared number: a mention of the user's own account is for the user, a reply to the assistant's message is for it", async () => {
    const t = setup();
    const sock = await t.online();
    sock.ev.emit('messages.upsert', {
      type: 'notify',
      messages: [
        inGroup('R0', '@447700900001 call me', { mentionedJid: [ME] }),
        inGroup('R1', 'tell me more', {
          stanzaId: 'A1',
          participant: ME,
          quotedMessage: { conversation: 'Andy: The plan is set.' },
        }),
        inGroup('R2', 'ok mum', { stanzaId: 'A2', participant: ME, quotedMessage: { conversation: 'Dinner at 8' } }),
        inGroup('R3', 'agreed', {
          stanzaId: 'A3',
          participant: ALICE,
          quotedMessage: { conversation: 'Andy: not me' },
        }),
      ] as any,
    });
    await waitFor(() => t.messages.length === 4, 'messages');
    expect(t.messages.map((m) => [!!m.mentionsAssistant, !!m.repliesToAssistant])).toEqual([
      [false, false],
      [false, true],
      [false, false],
      [false, false],
    ]);
  });
});

describe('WhatsApp own messages', () => {
  it("shared number: the user's own messages trigger, the assistant's prefixed echoes do not", async () => {
    const t = setup();
    expect(t.channel.sharesUserAccount).toBe(true);
    const sock = await t.online();
    expect(t.channel.selfJid()).toBe(ME);
    sock.replay(loadFixture('message-own.json'));
    await waitFor(() => t.messages.length === 2, 'messages');
    const [mine, echo] = t.messages;
    expect(mine).toMatchObject({ chatJid: ME, sender: ME, fromMe: true, fromAssistant: false, senderName: 'Jane' });
    expect(echo).toMatchObject({
      chatJid: ME,
      fromMe: true,
      fromAssistant: true,
      senderName: 'Andy',
      text: "Andy: Done — I'll remind you at 18:00.",
    });
  });

  it("own number: everything sent from the account is the assistant's", async () => {
    const t = setup({ hasOwnNumber: true });
    expect(t.channel.sharesUserAccount).toBe(false);
    const sock = await t.online();
    sock.replay(loadFixture('message-own.json'));
    await waitFor(() => t.messages.length === 2, 'messages');
    expect(t.messages.map((m) => m.fromAssistant)).toEqual([true, true]);
  });

  it('sends a screenshot as an image with its caption, and a PDF as a named document', async () => {
    const t = setup();
    const sock = await t.online();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-wa-media-'));
    const png = path.join(dir, 'shot.png');
    fs.writeFileSync(png, Buffer.from('89504e470d0a1a0a', 'hex'));
    await t.channel.sendMedia!(ALICE, { path: png, fileName: 'shot.png', mimeType: 'image/png' }, 'The page');
    await t.channel.sendMedia!(ALICE, { path: png, fileName: 'notes.pdf', mimeType: 'application/pdf' }, 'Notes');
    const [image, doc] = sock.sent.map((s) => s.content as any);
    expect(image).toMatchObject({ mimetype: 'image/png', caption: 'The page' });
    expect(Buffer.from(image.image).toString('hex')).toBe('89504e470d0a1a0a');
    expect(doc).toMatchObject({ mimetype: 'application/pdf', fileName: 'notes.pdf', caption: 'Notes' });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('recognises the echo of a message it sent, even without a prefix', async () => {
    const t = setup();
    const sock = await t.online();
    await t.channel.sendMessage(ALICE, 'plain reply');
    expect(sock.sent).toEqual([
      { jid: ALICE, content: { text: 'plain reply' }, options: { messageId: expect.any(String) } },
    ]);
    await waitFor(() => t.messages.length === 1, 'echo');
    expect(t.messages[0]).toMatchObject({
      id: sock.sent[0].options!.messageId,
      chatJid: ALICE,
      fromMe: true,
      fromAssistant: true,
      text: 'plain reply',
    });
  });
});

describe('WhatsApp chats and presence', () => {
  it('reports group subjects on connect (once each) and when a subject changes', async () => {
    const t = setup();
    const sock = await t.online();
    await waitFor(() => t.chats.length >= 2, 'group names');
    await settle();
    expect(t.chats).toEqual([
      { jid: FAMILY, name: 'Family', channel: 'whatsapp', isGroup: true },
      { jid: '120363041122334455@g.us', name: 'Book club', channel: 'whatsapp', isGroup: true },
    ]);
    sock.replay(loadFixture('groups-update.json'));
    await waitFor(() => t.chats.length === 3, 'subject change');
    expect(t.chats[2]).toEqual({ jid: FAMILY, name: 'Family dinner 🍝', channel: 'whatsapp', isGroup: true });
  });

  it('shows typing as composing / paused presence', async () => {
    const t = setup();
    const sock = await t.online();
    await t.channel.setTyping!(FAMILY, true);
    await t.channel.setTyping!(FAMILY, false);
    expect(sock.presence).toEqual([
      { type: 'composing', jid: FAMILY },
      { type: 'paused', jid: FAMILY },
    ]);
  });

  it('owns WhatsApp ids only', () => {
    const t = setup();
    expect([ALICE, FAMILY, BOB_LID].every((j) => t.channel.ownsJid(j))).toBe(true);
    expect(['tg:123', 'local:main', 'status@broadcast'].some((j) => t.channel.ownsJid(j))).toBe(false);
  });
});

describe('WhatsApp linking and connection', () => {
  it('keeps credentials in a 0700 folder and reports the QR to scan', async () => {
    const t = setup({}, { registered: false });
    await t.channel.connect(t.events);
    const authDir = path.join(t.home, 'store', 'auth', 'whatsapp');
    expect(fs.statSync(authDir).mode & 0o777).toBe(0o700);
    const fixture = loadFixture('connection-qr.json');
    t.factory.latest().replay(fixture);
    expect(t.states.at(-1)).toMatchObject({ connected: false, linking: { qr: fixture[1].data.qr } });
    expect(t.channel.isConnected()).toBe(false);
  });

  it('links with a pairing code when a phone number is given', async () => {
    const t = setup({ pairingPhone: '+44 7700 900001' }, { registered: false });
    await t.channel.connect(t.events);
    const sock = t.factory.latest();
    sock.replay(loadFixture('connection-qr.json'));
    sock.replay(loadFixture('connection-qr.json'));
    await waitFor(() => t.states.some((s) => s.linking?.pairingCode), 'pairing code');
    expect(sock.pairingRequests).toEqual(['447700900001']);
    expect(t.states.filter((s) => s.linking)).toEqual([
      expect.objectContaining({ linking: { pairingCode: 'K7QX2M9D' } }),
    ]);
  });

  it('reconnects after a recoverable close with exactly one new socket and one set of listeners', async () => {
    const t = setup();
    const first = await t.online();
    await t.channel.sendMessage(ALICE, 'before');
    expect(first.ev.handlerCount()).toBe(1);

    first.replay(loadFixture('connection-closed.json'));
    expect(t.channel.isConnected()).toBe(false);
    expect(t.states.at(-1)).toMatchObject({ connected: false });
    await expect(t.channel.sendMessage(ALICE, 'while down')).rejects.toThrow(/not connected/);

    await waitFor(() => t.factory.sockets.length === 2, 'second socket');
    const second = t.factory.latest();
    expect(first.ev.handlerCount()).toBe(0);
    expect(second.ev.handlerCount()).toBe(1);

    // Events from the dropped socket are ignored.
    first.ev.emit('messages.upsert', loadFixture('message-text.json')[0].data);
    second.open();
    await waitFor(() => t.channel.isConnected(), 'reconnect');
    expect(t.states.at(-1)).toEqual({ connected: true });
    await t.channel.sendMessage(ALICE, 'after');
    expect(second.sent.map((s) => s.content.text)).toEqual(['after']);
    await settle();
    expect(t.factory.sockets).toHaveLength(2);
    expect(t.messages.filter((m) => !m.fromMe)).toEqual([]);
  });

  it('on logout stops reconnecting, says so, and resumes once linked again from another process', async () => {
    const t = setup();
    const sock = await t.online();
    const authDir = path.join(t.home, 'store', 'auth', 'whatsapp');

    sock.replay(loadFixture('connection-logged-out.json'));
    expect(t.linkLost).toHaveLength(1);
    expect(t.linkLost[0]).toMatch(/logged this device out.*nanoclaw auth whatsapp/);
    expect(t.states.at(-1)).toEqual({ connected: false, detail: t.linkLost[0] });
    await new Promise((r) => setTimeout(r, 100));
    expect(t.factory.sockets).toHaveLength(1);
    expect(t.channel.isConnected()).toBe(false);
    await expect(t.channel.sendMessage(ALICE, 'hello?')).rejects.toThrow(/not connected/);
    // The dead credentials are gone, so the next link starts clean.
    await waitFor(() => fs.readdirSync(authDir).length === 0, 'dead credentials removed');

    // `nanoclaw auth whatsapp` links the device and saves fresh credentials.
    const creds = {
      ...initAuthCreds(),
      me: { id: '447700900001:14@s.whatsapp.net', lid: '215089355554821:14@lid', name: 'Jane' },
    };
    fs.writeFileSync(path.join(authDir, 'creds.json'), JSON.stringify(creds, BufferJSON.replacer));
    await waitFor(() => t.factory.sockets.length === 2, 'new socket after relinking');
    t.factory.latest().open();
    await waitFor(() => t.channel.isConnected(), 'connection');
    await settle();
    expect(t.factory.sockets).toHaveLength(2);
  });

  it('relink() forgets dead credentials and shows a new QR code', async () => {
    const t = setup();
    const sock = await t.online();
    sock.replay(loadFixture('connection-logged-out.json'));
    await t.channel.relink();
    expect(t.factory.sockets).toHaveLength(2);
    t.factory.latest().replay(loadFixture('connection-qr.json'));
    expect(t.states.at(-1)?.linking?.qr).toMatch(/^2@/);
  });

  it('disconnect does not wait for a group list WhatsApp has not answered', async () => {
    const t = setup({}, { groupsUnanswered: true });
    const sock = await t.online();
    await t.channel.disconnect();
    expect(sock.closed).toBe(true);
  });

  it('disconnect closes the socket and does not come back', async () => {
    const t = setup();
    const sock = await t.online();
    await t.channel.disconnect();
    expect(sock.closed).toBe(true);
    expect(t.channel.isConnected()).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(t.factory.sockets).toHaveLength(1);
  });
});

describe('WhatsApp conversion helpers', () => {
  it('reads timestamps and sizes however Baileys hands them over', () => {
    expect(toNumber(1718012001)).toBe(1718012001);
    expect(toNumber({ low: 1718012001, high: 0, unsigned: false })).toBe(1718012001);
    expect(toNumber({ toNumber: () => 42 })).toBe(42);
    expect(toNumber('48213')).toBe(48213);
    expect(toNumber(null)).toBeUndefined();
  });

  it('names inbox files from a whitelist of types only', () => {
    expect(inboxFileName('audio/ogg; codecs=opus', 1718012001000, 'a1b2c3d4')).toBe('1718012001000-a1b2c3d4.ogg');
    expect(inboxFileName('application/x-msdownload', 1, 'ff')).toBe('1-ff.bin');
    expect(inboxFileName(undefined, 1, '../../x')).toBe('1-.bin');
  });
});
