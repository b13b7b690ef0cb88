// WhatsApp media that has expired on WhatsApp's servers (404/410) is asked for
// again from the sender's phone (Baileys' updateMediaMessage) and saved,
// instead of the message arriving without its file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createWhatsAppChannel, isExpiredMedia } from '../../../src/plugins/whatsapp/whatsapp.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openDatabase } from '../../../src/core/store/db.js';
import { identityQueries } from '../../../src/plugins/whatsapp/identities.js';
import type { Message } from '../../../src/core/types.js';
import { boomLike, fakeMediaServer, fakeSocketFactory, loadFixture } from '../../support/fake-baileys-socket.js';
import { mediaStore } from '../../../src/plugins/media/index.js';

const FAMILY = '120363025246125888@g.us';
const VOICE_ID = 'AC3F5B2E91D84C07A6F1E2D3B4C5A697';
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

async function online(reupload: boolean) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-wa-media-'));
  const bytes = loadFixture<Record<string, string>>('media-bytes.json');
  const media = fakeMediaServer({ [VOICE_ID]: Buffer.from(bytes[VOICE_ID], 'base64') });
  const factory = fakeSocketFactory({
    groups: loadFixture('groups-participating.json'),
    ...(reupload ? { reupload: media.reupload } : {}),
  });
  const db = openDatabase(':memory:');
  const inbox = path.join(home, 'groups', 'family', 'inbox');
  const channel = createWhatsAppChannel({
    authDir: path.join(home, 'store', 'auth', 'whatsapp'),
    assistantName: 'Andy',
    hasOwnNumber: false,
    logger: silentLogger(),
    media: mediaStore((jid) => (jid === FAMILY ? inbox : null), path.join(home, 'data', 'media-staging')),
    identities: identityQueries(db),
    makeSocket: factory.makeSocket,
    downloadMedia: media.download,
  });
  const messages: Message[] = [];
  await channel.connect({ onMessage: (m) => messages.push(m), onChat: () => {} });
  factory.latest().open();
  await waitFor(() => channel.isConnected(), 'connection');
  cleanups.push(async () => {
    await channel.disconnect();
    db.close();
    fs.rmSync(home, { recursive: true, force: true });
  });
  return { sock: factory.latest(), media, messages, inbox, bytes };
}

it('asks the phone to upload an expired voice note again, and saves it', async () => {
  const t = await online(true);
  t.media.expire(VOICE_ID);
  t.sock.replay(loadFixture('message-voice-note.json'));
  await waitFor(() => t.messages.length === 1, 'the voice note');

  expect(t.sock.mediaUpdates).toEqual([VOICE_ID]);
  expect(t.media.requested).toEqual([VOICE_ID, VOICE_ID]);
  const [att] = t.messages[0].attachments ?? [];
  expect(att).toMatchObject({ kind: 'audio' });
  expect(
    fs.readFileSync(path.join(path.dirname(t.inbox), att.path)).equals(Buffer.from(t.bytes[VOICE_ID], 'base64')),
  ).toBe(true);
});

it('asks once: media still gone after the re-upload request arrives without its file', async () => {
  const t = await online(false);
  t.media.expire(VOICE_ID);
  t.sock.replay(loadFixture('message-voice-note.json'));
  await waitFor(() => t.messages.length === 1, 'the voice note');
  expect(t.sock.mediaUpdates).toEqual([VOICE_ID]);
  expect(t.media.requested).toEqual([VOICE_ID, VOICE_ID]);
  expect(t.messages[0].attachments).toBeUndefined();
});

it('tells an expired download from other failures, whatever shape the error has', () => {
  expect(isExpiredMedia(boomLike(410, 'gone'))).toBe(true);
  expect(isExpiredMedia(boomLike(404, 'gone'))).toBe(true);
  expect(isExpiredMedia(Object.assign(new Error('x'), { status: 410 }))).toBe(true);
  expect(isExpiredMedia(boomLike(500, 'oops'))).toBe(false);
  expect(isExpiredMedia(new Error('socket hang up'))).toBe(false);
});
