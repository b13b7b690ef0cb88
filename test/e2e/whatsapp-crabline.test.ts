// WhatsApp end to end. Against crabline's WhatsApp Web server (a third-party
// local provider server that completes the Baileys Noise handshake on
// 127.0.0.1): the real Baileys 7 socket, started by the host's WhatsApp plugin
// with WHATSAPP_WS_URL and credentials the test seeds (crabline has no QR flow),
// the real sandbox and SDK, the fake model; sends are counted at its recorder.
//
// crabline covers direct chats (inbound and outbound), group inbound, and
// voice notes. It does not support group outbound (sender-key `skmsg`
// encryption), images, mentions or quoted replies in its admin ingress: those
// run against the faithful fake at the Baileys socket boundary
// (test/support/fake-baileys-socket.ts) in the second half of this file.
import fs from 'node:fs';
import path from 'node:path';
import { BufferJSON, initAuthCreds } from 'baileys';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { inboxDirFor, mediaStore } from '../../src/plugins/media/index.js';
import { createWhatsAppChannel, WHATSAPP_TEXT_LIMIT } from '../../src/plugins/whatsapp/whatsapp.js';
import { silentLogger } from '../../src/core/logger.js';
import { lastUserText, type Script } from '../support/fake-anthropic.js';
import { fakeMediaServer, fakeSocketFactory } from '../support/fake-baileys-socket.js';
import { startCrabline, type Crabline, type Recorded } from '../support/crabline.js';
import { makeHome, startTestEnv, TEST_KEY, until, type TestEnv } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';

const ALICE = '15551234567@s.whatsapp.net';
const GROUP = '120363001234567890@g.us';
const LONG = Array.from({ length: 11_000 }, (_, i) => `word${i}`).join(' ');

/** A linked device, as `nanoclaw auth whatsapp` would leave it: Baileys credentials for crabline's account. */
function seedCredentials(home: string, selfJid: string): void {
  const dir = path.join(home, 'store', 'auth', 'whatsapp');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const creds = {
    ...initAuthCreds(),
    registered: true,
    me: { id: `${selfJid.split('@')[0]}:1@s.whatsapp.net`, name: 'Me' },
  };
  fs.writeFileSync(path.join(dir, 'creds.json'), JSON.stringify(creds, BufferJSON.replacer), { mode: 0o600 });
}

/** Texts crabline accepted from the linked device for one chat, in order. */
function sentTo(lines: Recorded[], jid: string): string[] {
  return lines
    .filter((l) => l.type === 'api' && l.accepted && l.method === 'WEBSOCKET' && l.body?.key?.remoteJid === jid)
    .map((l) => String(l.body?.message?.conversation ?? l.body?.message?.extendedTextMessage?.text));
}

/** Sessions the linked device opened (Baileys marks each one active once). */
const connections = (server: Crabline) => server.recorded().filter((l) => l.body?.attrs?.xmlns === 'passive').length;

const script: Script = (req) => {
  const text = lastUserText(req);
  if (text.includes('write a lot')) return { text: LONG };
  if (text.includes('hello in private')) return { text: 'Private answer.' };
  if (text.includes('what is the plan')) return { text: 'Here is the plan.' };
  if (text.includes('triggered')) return { text: 'Group answer.' };
  if (text.includes('mentioned you')) return { text: 'Answer to the mention.' };
  if (text.includes('tell me more')) return { text: 'Answer to your reply.' };
  // No speech model in a test home: the note reaches the agent as untranscribed, and is still answered.
  if (text.includes('[voice note, not transcribed')) return { text: 'Heard your voice note.' };
  if (text.includes('look at this')) return { text: 'A lovely red square.' };
  return { text: 'Other answer.' };
};

describe('against crabline', () => {
  let wa: Crabline;
  let env: TestEnv;
  const home = makeHome('nanoclaw-crabline-wa-');

  beforeAll(async () => {
    wa = await startCrabline('whatsapp', path.join(home, '.crabline'));
    seedCredentials(home, wa.manifest.selfJid);
    env = await startTestEnv({ home, script, env: { WHATSAPP_WS_URL: wa.manifest.endpoints.baileysWebSocketUrl } });
    await until(
      () => env.host.channels.find((c) => c.name === 'whatsapp')?.isConnected() === true,
      20_000,
      'whatsapp connected',
    );
    for (const [jid, folder, requiresTrigger] of [
      [ALICE, 'alice', false],
      [GROUP, 'family', true],
    ] as const) {
      const res = await env.api('/api/groups', {
        method: 'POST',
        json: { jid, name: folder, folder, requiresTrigger },
      });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await env?.close();
    await wa?.stop();
  });

  test('a direct message is answered, prefixed with the assistant name on a shared number', async () => {
    await wa.inject({ chatJid: ALICE, senderJid: ALICE, text: 'hello in private' });
    const lines = await wa.untilRecorded((ls) => sentTo(ls, ALICE).length >= 1, 90_000, 'the private answer');
    expect(sentTo(lines, ALICE)).toEqual(['Andy: Private answer.']);
    // Typing was shown while the agent worked.
    expect(
      lines.some(
        (l) => l.body?.tag === 'chatstate' && l.body?.attrs?.to === ALICE && l.body?.content?.[0]?.tag === 'composing',
      ),
    ).toBe(true);
  });

  test('in a group, an untriggered message is kept as context and asks nobody', async () => {
    const before = env.fake.turnRequests().length;
    await wa.inject({ chatJid: GROUP, senderJid: ALICE, text: 'the dinner moved to eight' });
    expect(await env.waitRouted((m) => m.text.includes('dinner moved'), 20_000)).toBe('stored');
    expect((await env.messages(GROUP)).map((m) => m.text)).toContain('the dinner moved to eight');
    expect(env.fake.turnRequests().length).toBe(before);
  });

  test('a long reply is split at the WhatsApp limit and arrives whole, in order', async () => {
    expect(LONG.length).toBeGreaterThan(WHATSAPP_TEXT_LIMIT);
    const before = sentTo(wa.recorded(), ALICE).length;
    await wa.inject({ chatJid: ALICE, senderJid: ALICE, text: 'please write a lot' });
    const done = (ls: Recorded[]) => sentTo(ls, ALICE).slice(before).join(' ').length >= LONG.length;
    const parts = sentTo(await wa.untilRecorded(done, 90_000, 'the long reply'), ALICE).slice(before);
    expect(parts.length).toBe(2);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(WHATSAPP_TEXT_LIMIT);
    expect(
      parts
        .join(' ')
        .replace(/^Andy: /, '')
        .split(' '),
    ).toEqual(LONG.split(' '));
  });

  test('a voice note lands in the chat inbox', async () => {
    const ogg = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(60, 7)]);
    await wa.inject({
      chatJid: ALICE,
      senderJid: ALICE,
      audio: { contentBase64: ogg.toString('base64'), mimeType: 'audio/ogg; codecs=opus', ptt: true },
    });
    const inbox = path.join(home, 'groups', 'alice', 'inbox');
    await until(
      () => fs.existsSync(inbox) && fs.readdirSync(inbox).length === 1,
      30_000,
      'the voice note in the inbox',
    );
    expect(fs.readFileSync(path.join(inbox, fs.readdirSync(inbox)[0]))).toEqual(ogg);
    await wa.untilRecorded(
      (ls) => sentTo(ls, ALICE).includes('Andy: Heard your voice note.'),
      90_000,
      'the answer to the voice note',
    );
  });

  test('a stranger writing in private gets a pairing code and is not answered by the agent', async () => {
    const stranger = '15559990000@s.whatsapp.net';
    const before = env.fake.turnRequests().length;
    await wa.inject({ chatJid: stranger, senderJid: stranger, text: 'hi, who are you?' });
    const lines = await wa.untilRecorded((ls) => sentTo(ls, stranger).length >= 1, 30_000, 'the pairing code');
    expect(sentTo(lines, stranger)[0]).toMatch(/code [A-Z0-9]{6}/);
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
    // Its own server and home, so the host above does not read this chat.
    const crashHome = makeHome('nanoclaw-crabline-wa-crash-');
    const server = await startCrabline('whatsapp', path.join(crashHome, '.crabline'));
    seedCredentials(crashHome, server.manifest.selfJid);
    const hostEnv = (extra: Record<string, string> = {}) => ({
      ANTHROPIC_API_KEY: TEST_KEY,
      ANTHROPIC_BASE_URL: env.fake.url,
      NANOCLAW_RUNTIME: 'bwrap',
      IDLE_TIMEOUT: '1000',
      NANOCLAW_RETRY_BASE_MS: '200',
      NANOCLAW_CONFIG_DIR: path.join(crashHome, '.config-nanoclaw'),
      WHATSAPP_WS_URL: server.manifest.endpoints.baileysWebSocketUrl,
      ...extra,
    });
    try {
      proc = await startHostProcess(crashHome, hostEnv(), entry);
      await until(() => connections(server) === 1, 20_000, 'the host connected');
      const res = await proc.api('/api/groups', {
        method: 'POST',
        json: { jid: ALICE, name: 'Alice', folder: 'alice', requiresTrigger: false },
      });
      expect(res.status).toBe(201);
      await proc.kill('SIGTERM');

      // Dies inside the write that stores the answer: the turn ran, nothing was sent.
      proc = await startHostProcess(crashHome, hostEnv({ NANOCLAW_CRASH_ON: 'reply' }), entry);
      const crashed = proc;
      await until(() => connections(server) === 2, 20_000, 'the second host connected');
      await server.inject({ chatJid: ALICE, senderJid: ALICE, text: 'what is the plan?' });
      await until(
        () => crashed.child.signalCode !== null || crashed.child.exitCode !== null,
        90_000,
        'the host to crash mid-turn',
      );
      expect(crashed.child.signalCode, crashed.output()).toBe('SIGKILL');
      expect(sentTo(server.recorded(), ALICE)).toEqual([]);

      proc = await startHostProcess(crashHome, hostEnv(), entry);
      await proc.settled(90_000);
      const lines = await server.untilRecorded(
        (ls) => sentTo(ls, ALICE).length >= 1,
        30_000,
        'the answer after restart',
      );
      expect(sentTo(lines, ALICE)).toEqual(['Andy: Here is the plan.']);
      // A second start sends nothing again.
      await proc.kill('SIGTERM');
      proc = await startHostProcess(crashHome, hostEnv(), entry);
      await proc.settled(30_000);
      expect(sentTo(server.recorded(), ALICE)).toEqual(['Andy: Here is the plan.']);
    } finally {
      await proc?.kill();
      proc = null;
      await server.stop();
      fs.rmSync(crashHome, { recursive: true, force: true });
    }
  });
});

// Groups: crabline cannot take a group send, so these run at the Baileys socket
// boundary. The fake covers what the channel sees of a group (participants,
// mentions, quoted messages, media) and what it hands to sendMessage; it does
// not cover WhatsApp's encryption or its server's acknowledgements.
describe('groups, at the Baileys socket boundary', () => {
  const OWN = '447700900001@s.whatsapp.net';
  const PNG = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
    'base64',
  );
  const media = fakeMediaServer({ P1: PNG });
  const sockets = fakeSocketFactory({ groups: { [GROUP]: { id: GROUP, subject: 'Family' } } });
  let env: TestEnv;
  let n = 0;
  const inGroup = (message: object, id = `G${++n}`) => ({
    key: { remoteJid: GROUP, fromMe: false, id, participant: ALICE },
    messageTimestamp: Math.floor(Date.now() / 1000),
    pushName: 'Alice',
    message,
  });
  const push = (message: object, id?: string) =>
    sockets.latest().ev.emit('messages.upsert', { messages: [inGroup(message, id)] as any, type: 'notify' });
  const groupSent = () =>
    sockets
      .latest()
      .sent.filter((m) => m.jid === GROUP)
      .map((m) => m.content.text);

  beforeAll(async () => {
    const home = makeHome('nanoclaw-wa-groups-');
    env = await startTestEnv({
      home,
      script,
      host: {
        get channels() {
          return [
            createWhatsAppChannel({
              authDir: path.join(home, 'store', 'auth', 'whatsapp'),
              assistantName: 'Andy',
              // The assistant has its own number: an @mention of it calls it.
              hasOwnNumber: true,
              logger: silentLogger(),
              media: mediaStore((jid) =>
                env ? inboxDirFor({ store: env.host.store, paths: env.host.paths }, jid) : null,
              ),
              identities: { canonical: (a) => a, link: () => {} },
              makeSocket: sockets.makeSocket as any,
              downloadMedia: (msg) => media.download(msg),
            }),
          ];
        },
      },
    });
    sockets.latest().open();
    const res = await env.api('/api/groups', {
      method: 'POST',
      json: { jid: GROUP, name: 'Family', folder: 'family', requiresTrigger: true },
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await env?.close();
  });

  test('an untriggered message is context; the trigger, an @mention and a reply to the assistant are answered', async () => {
    push({ conversation: 'the dinner moved to eight' });
    expect(await env.waitRouted((m) => m.text.includes('dinner moved'), 20_000)).toBe('stored');
    expect(groupSent()).toEqual([]);

    push({ conversation: '@Andy triggered: when is dinner?' });
    await until(() => groupSent().length >= 1, 90_000, 'the group answer');
    const turn = env.fake.turnRequests().find((r) => lastUserText(r).includes('when is dinner'))!;
    expect(lastUserText(turn)).toContain('the dinner moved to eight');

    push({ extendedTextMessage: { text: '@447700900001 I mentioned you', contextInfo: { mentionedJid: [OWN] } } });
    await until(() => groupSent().length >= 2, 90_000, 'the answer to the mention');

    const mine = sockets.latest().sent.find((m) => m.jid === GROUP)!;
    push({
      extendedTextMessage: {
        text: 'tell me more',
        contextInfo: {
          stanzaId: mine.options?.messageId,
          participant: OWN,
          quotedMessage: { conversation: mine.content.text },
        },
      },
    });
    await until(() => groupSent().length >= 3, 90_000, 'the answer to the reply');
    expect(groupSent()).toEqual(['Group answer.', 'Answer to the mention.', 'Answer to your reply.']);
  });

  test('a photo lands in the group inbox', async () => {
    push({ imageMessage: { caption: '@Andy look at this', mimetype: 'image/png', fileLength: PNG.length } }, 'P1');
    await until(() => groupSent().includes('A lovely red square.'), 90_000, 'the photo answer');
    const inbox = path.join(env.home, 'groups', 'family', 'inbox');
    const files = fs.readdirSync(inbox);
    expect(files).toHaveLength(1);
    expect(fs.readFileSync(path.join(inbox, files[0]))).toEqual(PNG);
  });
});
