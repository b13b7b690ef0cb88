// Real chat apps, end to end: a Telegram group (fake Bot API server) and a
// WhatsApp group (Baileys socket boundary) each get their answer on their own
// channel, from the real agent in a real sandbox. Strangers get a pairing code;
// the sender allowlist (a plugin) decides who may trigger and whose messages are kept.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { inboxDirFor, mediaStore } from '../../src/plugins/media/index.js';
import { createTelegramChannel } from '../../src/plugins/telegram/telegram.js';
import { createWhatsAppChannel } from '../../src/plugins/whatsapp/whatsapp.js';
import { silentLogger } from '../../src/core/logger.js';
import { lastUserText } from '../support/fake-anthropic.js';
import { fakeSocketFactory } from '../support/fake-baileys-socket.js';
import { ALICE, BOB, groupChat, privateChat, startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { makeHome, startTestEnv, until, type TestEnv } from '../support/harness.js';

const TG_GROUP = groupChat('Climbing club', -1001234567890);
const WA_GROUP = '120363025246125888@g.us';
const WA_SENDER = '447700900123@s.whatsapp.net';

let env: TestEnv;
let tg: FakeTelegram;
const wa = fakeSocketFactory({ groups: { [WA_GROUP]: { id: WA_GROUP, subject: 'Book club' } } });
const home = makeHome();

function waMessage(id: string, text: string, from = WA_SENDER, chat = WA_GROUP) {
  return {
    key: { remoteJid: chat, fromMe: false, id, participant: chat.endsWith('@g.us') ? from : undefined },
    messageTimestamp: Math.floor(Date.now() / 1000),
    pushName: 'Alice Smith',
    message: { conversation: text },
  };
}

beforeAll(async () => {
  tg = await startFakeTelegram();
  fs.mkdirSync(path.join(home, '.config-nanoclaw'), { recursive: true });
  fs.writeFileSync(
    path.join(home, '.config-nanoclaw', 'sender-allowlist.json'),
    JSON.stringify({
      chats: { [`tg:${TG_GROUP.id}`]: { allow: [`tg:${ALICE.id}`], others: 'context' } },
    }),
  );
  env = await startTestEnv({
    home,
    script: (req) => {
      const text = lastUserText(req);
      if (text.includes('from telegram')) return { text: 'Telegram answer.' };
      if (text.includes('from whatsapp')) return { text: 'WhatsApp answer.' };
      if (text.includes('newcomer')) return { text: 'Nice to meet you.' };
      if (text.includes('look at this')) return { text: 'A lovely red square.' };
      if (text.includes('replying to you')) return { text: 'Answer to your reply.' };
      return { text: 'Other answer.' };
    },
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
          createWhatsAppChannel({
            authDir: path.join(home, 'store', 'auth', 'whatsapp'),
            assistantName: 'Andy',
            hasOwnNumber: false,
            logger: silentLogger(),
            media: mediaStore(() => null),
            identities: { canonical: (a) => a, link: () => {} },
            makeSocket: wa.makeSocket as any,
          }),
        ];
      },
    },
  });
  wa.latest().open();
  expect(
    (
      await env.api('/api/groups', {
        method: 'POST',
        json: { jid: `tg:${TG_GROUP.id}`, name: 'Climbing club', folder: 'climbing' },
      })
    ).status,
  ).toBe(201);
  expect(
    (await env.api('/api/groups', { method: 'POST', json: { jid: WA_GROUP, name: 'Book club', folder: 'books' } }))
      .status,
  ).toBe(201);
});
afterAll(async () => {
  await env?.close();
  await tg?.close();
});

test('a Telegram group and a WhatsApp group each get their answer on their own channel', async () => {
  tg.push({ chat: TG_GROUP, from: ALICE, text: '@Andy hello from telegram' });
  wa.latest().ev.emit('messages.upsert', {
    messages: [waMessage('WA1', '@Andy hello from whatsapp')] as any,
    type: 'notify',
  });

  await until(() => tg.sent.length >= 1 && wa.latest().sent.length >= 1, 90_000, 'both answers');
  // Nothing more is coming: no turn runs and nothing waits in the outbox.
  await until(
    () => env.host.queue.activeCount() === 0 && env.host.store.outbox.pending().length === 0,
    30_000,
    'the host to settle',
  );
  expect(tg.sent.map((m) => [String(m.chatId), m.text])).toEqual([[String(TG_GROUP.id), 'Telegram answer.']]);
  // WhatsApp shares the user's own account: the reply says who is talking.
  expect(wa.latest().sent.map((m) => [m.jid, m.content.text])).toEqual([[WA_GROUP, 'Andy: WhatsApp answer.']]);
  // Each reply is in its own chat's history, once (the platform's echo is not stored again).
  await env.untilChat(WA_GROUP, (ms) => ms.filter((m) => m.fromAssistant).length === 1, 5000, 'WA history');
  expect((await env.messages(WA_GROUP)).filter((m) => m.fromAssistant).map((m) => m.text)).toEqual([
    'WhatsApp answer.',
  ]);
  expect((await env.messages(`tg:${TG_GROUP.id}`)).filter((m) => m.fromAssistant).map((m) => m.text)).toEqual([
    'Telegram answer.',
  ]);
  // Group names reported by the channels are known.
  const { unregistered, groups } = (await (await env.api('/api/groups')).json()) as any;
  expect(groups.length + unregistered.length).toBeGreaterThan(0);
});

test('a sender not on the allowlist cannot trigger; their message is kept as context', async () => {
  const before = env.fake.turnRequests().length;
  tg.push({ chat: TG_GROUP, from: BOB, text: '@Andy bob wants attention' });
  // Stored as context, and routing asked nobody.
  expect(await env.waitRouted((m) => m.text.includes('bob wants attention'), 10_000)).toBe('stored');
  expect((await env.messages(`tg:${TG_GROUP.id}`)).some((m) => m.text.includes('bob wants attention'))).toBe(true);
  expect(env.fake.turnRequests().length).toBe(before);
  tg.push({ chat: TG_GROUP, from: ALICE, text: '@Andy and again from telegram' });
  await until(() => tg.sent.length >= 2, 60_000, 'second telegram answer');
  const prompt = lastUserText(env.fake.turnRequests()[env.fake.turnRequests().length - 1]);
  expect(prompt).toContain('bob wants attention');
});

test('a stranger in a DM gets a pairing code; approving it from the main chat lets them talk', async () => {
  const stranger = { id: 5555, is_bot: false, first_name: 'Nora', last_name: 'Newcomer' };
  tg.push({ chat: privateChat(stranger), from: stranger, text: 'hi, who are you?' });
  await until(() => tg.sent.some((m) => String(m.chatId) === '5555'), 30_000, 'pairing code');
  const codeMsg = tg.sent.find((m) => String(m.chatId) === '5555')!.text;
  const code = /code ([A-Z0-9]{6})/.exec(codeMsg)![1];
  // The owner hears about it in a main chat on a connected platform: here the WhatsApp self-chat.
  const self = '447700900001@s.whatsapp.net';
  expect(env.host.store.groups.get(self)?.isMain).toBe(true);
  await until(
    () => wa.latest().sent.some((m) => m.jid === self && m.content.text.includes(`approve ${code}`)),
    10_000,
    'owner notice',
  );
  expect(env.host.store.groups.get('tg:5555')).toBeUndefined();

  await env.send('local:main', `approve ${code.toLowerCase()}`);
  await until(() => !!env.host.store.groups.get('tg:5555'), 10_000, 'registration');
  await env.untilChat(
    'local:main',
    (ms) => ms.some((m) => m.fromAssistant && m.text.startsWith('Approved: Nora Newcomer')),
    10_000,
    'approval reply',
  );
  await until(
    () => tg.sent.some((m) => String(m.chatId) === '5555' && m.text.includes("You're approved")),
    10_000,
    'the stranger is told',
  );
  // A wrong code is refused, and nobody else gets registered.
  await env.send('local:main', 'approve ZZZZZZ');
  await env.untilChat('local:main', (ms) => ms.some((m) => m.text.startsWith('Not approved')), 10_000, 'refusal');

  tg.push({ chat: privateChat(stranger), from: stranger, text: 'thanks, I am the newcomer' });
  await until(() => tg.sent.some((m) => m.text === 'Nice to meet you.'), 60_000, 'the newcomer is answered');
});

test('replies written while WhatsApp is down wait in the outbox and go out in order on reconnect', async () => {
  const sock = wa.latest();
  await sock.end(Object.assign(new Error('Connection Lost'), { output: { statusCode: 408 } }));
  env.host.store.outbox.enqueue(WA_GROUP, 'first while down');
  env.host.store.outbox.enqueue(WA_GROUP, 'second while down');
  await until(() => wa.sockets.length >= 2, 10_000, 'a new socket');
  expect(sock.sent.map((m) => m.content.text)).not.toContain('Andy: first while down');
  wa.latest().open();
  await until(() => wa.latest().sent.length >= 2, 20_000, 'queued replies delivered');
  expect(wa.latest().sent.map((m) => m.content.text)).toEqual(['Andy: first while down', 'Andy: second while down']);
});

// A 1x1 red PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

test('a photo is saved in the group inbox and shown to the model as an image', async () => {
  const fileId = tg.addFile(PNG, { filePath: 'photos/file_9.png' });
  const before = env.fake.turnRequests().length;
  tg.push({
    chat: TG_GROUP,
    from: ALICE,
    caption: '@Andy look at this',
    photo: [{ file_id: fileId, file_unique_id: 'u9', width: 1, height: 1 }],
  });
  await until(() => tg.sent.some((m) => m.text === 'A lovely red square.'), 60_000, 'the photo answer');
  const inbox = path.join(home, 'groups', 'climbing', 'inbox');
  const files = fs.readdirSync(inbox);
  expect(files).toHaveLength(1);
  expect(fs.readFileSync(path.join(inbox, files[0]))).toEqual(PNG);
  const req = env.fake
    .turnRequests()
    .slice(before)
    .find((r) => r.text.includes('look at this'))!;
  const lastUser = req.body.messages.filter((m: any) => m.role === 'user').pop();
  const image = lastUser.content.find((c: any) => c.type === 'image');
  expect(image?.source?.data).toBe(PNG.toString('base64'));
  expect(req.text).toContain(`/workspace/group/inbox/${files[0]}`);
});

test("in a trigger-only group, a reply to one of the assistant's messages calls it without the trigger", async () => {
  expect(env.host.store.groups.get(`tg:${TG_GROUP.id}`)?.requiresTrigger).toBe(true);
  const mine = {
    message_id: 4242,
    date: Math.floor(Date.now() / 1000),
    chat: TG_GROUP,
    from: tg.bot,
    text: 'Telegram answer.',
  };
  tg.push({ chat: TG_GROUP, from: ALICE, text: 'replying to you: tell me more', reply_to_message: mine });
  await until(() => tg.sent.some((m) => m.text === 'Answer to your reply.'), 30_000, 'the answer to the reply');
  expect(tg.sent.filter((m) => m.text === 'Answer to your reply.').map((m) => String(m.chatId))).toEqual([
    String(TG_GROUP.id),
  ]);
});

test('the allowlist can drop the others, and a broken file closes the chat to them and shows in status', async () => {
  const file = path.join(home, '.config-nanoclaw', 'sender-allowlist.json');
  const rewrite = (text: string, ahead: number) => {
    fs.writeFileSync(file, text);
    // Read again when its time changes: make sure it does within the file system's resolution.
    fs.utimesSync(file, new Date(), new Date(Date.now() + ahead));
  };
  rewrite(JSON.stringify({ chats: { [`tg:${TG_GROUP.id}`]: { allow: [`tg:${ALICE.id}`], others: 'drop' } } }), 5000);
  tg.push({ chat: TG_GROUP, from: BOB, text: 'bob says something nobody keeps' });
  expect(await env.waitRouted((m) => m.text.includes('nobody keeps'), 10_000)).toBe('dropped');
  expect((await env.messages(`tg:${TG_GROUP.id}`)).some((m) => m.text.includes('nobody keeps'))).toBe(false);
  expect(env.host.status().problems.some((p) => p.includes('sender-allowlist.json'))).toBe(false);

  rewrite('{ not json', 10_000);
  const before = env.fake.turnRequests().length;
  tg.push({ chat: TG_GROUP, from: ALICE, text: '@Andy alice while the file is broken' });
  expect(await env.waitRouted((m) => m.text.includes('while the file is broken'), 10_000)).toBe('stored');
  expect(env.fake.turnRequests().length).toBe(before);
  expect(env.host.status().problems).toContainEqual(expect.stringMatching(/sender-allowlist\.json is not valid/));
});
