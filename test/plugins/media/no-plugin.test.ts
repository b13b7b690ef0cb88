// Without the media plugin a chat's files are not saved: the message still arrives, with a note saying so,
// and nothing is downloaded or written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { localPlugin } from '../../../src/core/channels/local/plugin.js';
import { NO_MEDIA_NOTE } from '../../../src/core/channels/plugin.js';
import { silentLogger } from '../../../src/core/logger.js';
import { gather } from '../../../src/core/plugin.js';
import { openDatabase } from '../../../src/core/store/db.js';
import { identityQueries } from '../../../src/plugins/whatsapp/identities.js';
import type { Message } from '../../../src/core/types.js';
import { hostMedia, media } from '../../../src/plugins/media/index.js';
import { createWhatsAppChannel } from '../../../src/plugins/whatsapp/whatsapp.js';
import { fakeMediaServer, fakeSocketFactory, loadFixture } from '../../support/fake-baileys-socket.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

it('the host gives channels the media plugin when it is on the list, and nothing when it is not', () => {
  expect(gather([media], localPlugin).media).toBe(hostMedia);
  expect(gather([], localPlugin).media).toBeUndefined();
});

it('a channel without a media store keeps the message with a note, and downloads nothing', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-no-media-'));
  const server = fakeMediaServer({ '3A9C1E5B7D2F4A6C8E0B': Buffer.from('image bytes') });
  const factory = fakeSocketFactory({ groups: loadFixture('groups-participating.json') });
  const db = openDatabase(':memory:');
  const channel = createWhatsAppChannel({
    authDir: path.join(home, 'store', 'auth', 'whatsapp'),
    assistantName: 'Andy',
    hasOwnNumber: false,
    logger: silentLogger(),
    identities: identityQueries(db),
    makeSocket: factory.makeSocket,
    downloadMedia: server.download,
  });
  cleanups.push(async () => {
    await channel.disconnect();
    db.close();
    fs.rmSync(home, { recursive: true, force: true });
  });
  const messages: Message[] = [];
  await channel.connect({ onMessage: (m) => messages.push(m), onChat: () => {} });
  factory.latest().open();
  await expect.poll(() => channel.isConnected()).toBe(true);

  factory.latest().replay(loadFixture('message-image.json'));
  await expect.poll(() => messages.length).toBe(1);

  expect(messages[0].text).toBe(`[image]${NO_MEDIA_NOTE}`);
  expect(messages[0].attachments).toBeUndefined();
  expect(server.requested).toEqual([]);
  expect(fs.readdirSync(home)).toEqual(['store']);
});
