// Voice notes heard by the real local engine: espeak-ng speech packed as an
// Ogg/Opus Telegram voice message is decoded on the host and transcribed by
// Moonshine (the tiny English model an npm package ships, run by onnxruntime),
// and what was said reaches the real agent's prompt in the real sandbox. The
// group's trigger is spoken: "Computer, …" calls the assistant as a typed
// "@Computer …" would, and a note that does not address it is only stored.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { inboxDirFor, mediaStore } from '../../src/plugins/media/index.js';
import { createTelegramChannel } from '../../src/plugins/telegram/telegram.js';
import { silentLogger } from '../../src/core/logger.js';
import { lastUserText } from '../support/fake-anthropic.js';
import { ALICE, groupChat, startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { makeHome, startTestEnv, until, type TestEnv } from '../support/harness.js';
import { moonshineModelDir } from '../support/moonshine.js';
import { synthesizeVoiceNote } from '../support/speech.js';

const GROUP = groupChat('Trip to France', -1001234509876);
const JID = `tg:${GROUP.id}`;

let env: TestEnv;
let tg: FakeTelegram;
let notes = 0;
const home = makeHome();

function pushVoice(words: string): void {
  const { ogg, seconds } = synthesizeVoiceNote(words);
  notes++;
  const fileId = tg.addFile(ogg, { filePath: `voice/${notes}.oga` });
  tg.push({
    chat: GROUP,
    from: ALICE,
    voice: {
      file_id: fileId,
      file_unique_id: `m${notes}`,
      duration: Math.ceil(seconds),
      mime_type: 'audio/ogg',
      file_size: ogg.length,
    },
  });
}

beforeAll(async () => {
  // Fails (never skips) without the model, saying how to get it.
  const model = await moonshineModelDir();
  tg = await startFakeTelegram();
  env = await startTestEnv({
    home,
    env: { NANOCLAW_STT: 'local', NANOCLAW_STT_MODEL: model },
    script: (req) => (/weather/i.test(lastUserText(req)) ? { text: 'Sunny, 21 degrees.' } : { text: 'Noted.' }),
    host: {
      get channels() {
        return [
          createTelegramChannel({
            token: tg.token,
            apiRoot: tg.apiRoot,
            assistantName: 'Andy',
            logger: silentLogger(),
            pollingTimeoutSeconds: 1,
            media: mediaStore((jid) =>
              env ? inboxDirFor({ store: env.host.store, paths: env.host.paths }, jid) : null,
            ),
          }),
        ];
      },
    },
  });
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: JID, name: 'Trip to France', folder: 'france', trigger: '@Computer', requiresTrigger: true },
  });
  expect(res.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await env?.close();
  await tg?.close();
});

test('a spoken note that does not address the assistant is stored as what the model heard, and starts no agent', async () => {
  pushVoice('I will bring the train tickets tomorrow.');
  const decision = await env.waitRouted((m) => m.chatJid === JID && /train/i.test(m.text), 60_000);
  expect(decision).toBe('stored');
  expect(env.host.store.search('train', { chatJids: [JID] }).length).toBe(1);
});

test('a spoken "Computer, …" triggers, and the words the real engine heard reach the model as a voice note', async () => {
  pushVoice('Computer, what is the weather in Paris?');
  await until(() => tg.sent.length >= 1, 90_000, 'the answer in Telegram');
  expect(tg.sent[0].text).toContain('Sunny, 21 degrees.');

  const prompt = env.fake
    .turnRequests()
    .map(lastUserText)
    .find((t) => /weather/i.test(t))!;
  expect(prompt).toMatch(
    /<voice_note path="\/workspace\/group\/inbox\/[^"]+" transcribed="yes"\/>\ncomputer\b[^<]*weather[^<]*paris/i,
  );
  // The earlier note is in the catch-up too.
  expect(prompt).toMatch(/train/i);
  expect(env.fake.turnRequests().length).toBe(1);
});
