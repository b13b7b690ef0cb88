// Voice notes, end to end: speech synthesised offline (espeak-ng → Ogg/Opus)
// arrives as a Telegram voice message, is decoded and transcribed on the host
// before routing, and what was said reaches the real agent's prompt in the
// real sandbox. A spoken "Andy, …" triggers like a typed "@Andy …"; a note
// that does not address the assistant is only stored.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { inboxDirFor, mediaStore } from '../../src/plugins/media/index.js';
import { createTelegramChannel } from '../../src/plugins/telegram/telegram.js';
import { silentLogger } from '../../src/core/logger.js';
import { lastUserText } from '../support/fake-anthropic.js';
import { startFakeStt, type FakeStt } from '../support/fake-stt.js';
import { ALICE, groupChat, startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { makeHome, startTestEnv, until, type TestEnv } from '../support/harness.js';
import { synthesizeVoiceNote } from '../support/speech.js';

const GROUP = groupChat('Travel plans', -1009876543210);
const JID = `tg:${GROUP.id}`;
const STT_KEY = 'stt-key-host-only-5d1e';
const SPOKEN_TRIGGER = 'Andy, what is the weather in Paris today?';
const SPOKEN_CHATTER = 'I will bring the maps tomorrow.';

let env: TestEnv;
let tg: FakeTelegram;
let stt: FakeStt;
const home = makeHome();
// What each synthesised note lasts, so the fake service "hears" a note only when it got that note's real speech.
const notes = new Map<number, string>();

function heard(seconds: number, rms: number): string {
  if (rms < 0.01) return '';
  for (const [len, words] of notes) if (Math.abs(len - seconds) < 0.15) return words;
  return '';
}

function pushVoice(words: string): void {
  const { ogg, seconds } = synthesizeVoiceNote(words);
  notes.set(seconds, words);
  const fileId = tg.addFile(ogg, { filePath: `voice/${notes.size}.oga` });
  tg.push({
    chat: GROUP,
    from: ALICE,
    voice: {
      file_id: fileId,
      file_unique_id: `v${notes.size}`,
      duration: Math.ceil(seconds),
      mime_type: 'audio/ogg',
      file_size: ogg.length,
    },
  });
}

beforeAll(async () => {
  tg = await startFakeTelegram();
  stt = await startFakeStt((a) => ({
    text: a.sampleRate === 16_000 && a.channels === 1 ? heard(a.seconds, a.rms) : '',
  }));
  env = await startTestEnv({
    home,
    env: { NANOCLAW_STT_URL: stt.url, NANOCLAW_STT_KEY: STT_KEY },
    script: (req) =>
      lastUserText(req).includes('weather in Paris') ? { text: 'Sunny, 21 degrees.' } : { text: 'Noted.' },
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
    json: { jid: JID, name: 'Travel plans', folder: 'travel', requiresTrigger: true },
  });
  expect(res.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await env?.close();
  await tg?.close();
  await stt?.close();
});

test('a voice note that does not address the assistant is stored as its transcript, marked as a voice note, and starts no agent', async () => {
  pushVoice(SPOKEN_CHATTER);
  const decision = await env.waitRouted((m) => m.chatJid === JID && m.text.includes('maps'), 30_000);
  expect(decision).toBe('stored');
  const [stored] = await env.messages(JID);
  expect(stored.text).toBe(SPOKEN_CHATTER);
  // search_messages reads the same index.
  expect(env.host.store.search('maps', { chatJids: [JID] }).length).toBe(1);
});

test('a spoken "Andy, …" triggers, and the words reach the model as a voice note', async () => {
  pushVoice(SPOKEN_TRIGGER);
  await until(() => tg.sent.length >= 1, 90_000, 'the answer in Telegram');
  expect(tg.sent[0].text).toContain('Sunny, 21 degrees.');

  const prompt = env.fake
    .turnRequests()
    .map(lastUserText)
    .find((t) => t.includes('weather in Paris'))!;
  expect(prompt).toContain('<voice_note path="/workspace/group/inbox/');
  expect(prompt).toContain('transcribed="yes"');
  // The earlier note is in the catch-up too.
  expect(prompt).toContain('bring the maps tomorrow');

  // The host decoded real speech to 16 kHz mono for the service, with the key only the host holds.
  expect(stt.received.length).toBe(2);
  for (const a of stt.received)
    expect(a).toMatchObject({ sampleRate: 16_000, channels: 1, authorization: `Bearer ${STT_KEY}` });
  // The key never reached the sandbox's side of the model proxy.
  expect(env.fake.requests.some((r) => JSON.stringify(r.headers).includes(STT_KEY) || r.text.includes(STT_KEY))).toBe(
    false,
  );
  // The audio stays in the inbox.
  const inbox = path.join(home, 'groups', 'travel', 'inbox');
  expect(fs.readdirSync(inbox).filter((f) => f.endsWith('.ogg') || f.endsWith('.oga')).length).toBe(2);
});

test('a note the service cannot transcribe is kept with the reason', async () => {
  stt.setScript(() => ({ status: 503, body: 'overloaded' }));
  pushVoice('Andy, are you there?');
  await env.waitRouted((m) => m.chatJid === JID && m.text.startsWith('[voice note, not transcribed:'), 30_000);
  const last = (await env.messages(JID)).filter((m) => !m.fromAssistant).at(-1);
  expect(last.text).toMatch(/^\[voice note, not transcribed: the transcription service answered 503: overloaded\]$/);
});
