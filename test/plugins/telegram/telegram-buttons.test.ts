// Inline buttons on the Telegram channel against the fake Bot API on 127.0.0.1:
// where the keyboard goes, who Telegram says tapped, and that every tap is answered.
import { afterEach, beforeEach, expect, test } from 'vitest';
import { telegramOwner } from '../../../src/plugins/telegram/plugin.js';
import { createTelegramChannel } from '../../../src/plugins/telegram/telegram.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openDatabase } from '../../../src/core/store/db.js';
import { createStore } from '../../../src/host.js';
import type { Store } from '../../../src/core/store/index.js';
import type { ButtonAnswer, ButtonPress, Channel } from '../../../src/core/types.js';
import { ALICE, BOB, privateChat, startFakeTelegram, type FakeTelegram } from '../../support/fake-telegram.js';
import { until } from '../../support/harness.js';

let fake: FakeTelegram;
let channel: Channel;
let store: Store;
let presses: ButtonPress[];
let reply: (p: ButtonPress) => Promise<ButtonAnswer>;
const ALICE_JID = `tg:${ALICE.id}`;

beforeEach(async () => {
  fake = await startFakeTelegram();
  store = createStore(openDatabase(':memory:'));
  // Alice's private chat is a main chat: by the plugin's rule, she is the owner.
  store.groups.insert({
    jid: ALICE_JID,
    name: 'Alice',
    folder: 'main',
    trigger: '@Andy',
    requiresTrigger: false,
    isMain: true,
    sandbox: {},
    addedAt: new Date().toISOString(),
  });
  presses = [];
  reply = async () => ({ notice: 'Noted.' });
  channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    assistantName: 'Andy',
    logger: silentLogger(),
    pollingTimeoutSeconds: 1,
    isOwner: telegramOwner({ token: fake.token, apiRoot: fake.apiRoot, ownerId: null }, store),
  });
  await channel.connect({
    onMessage: () => {},
    onChat: () => {},
    onButton: (p) => {
      presses.push(p);
      return reply(p);
    },
  });
});
afterEach(async () => {
  await channel.disconnect();
  await fake.close();
});

async function tapAndWait(who: typeof ALICE, data: string): Promise<string | undefined> {
  const id = fake.tap(who, fake.sent.at(-1)!, data, privateChat(ALICE));
  await until(() => fake.callbackAnswers.some((a) => a.queryId === id), 10_000, 'the answer to the tap');
  return fake.callbackAnswers.find((a) => a.queryId === id)!.text;
}

test('a long message keeps its buttons under the last part; a button over 64 bytes is left off, the text still goes', async () => {
  const text = `${'a'.repeat(3000)}\n\n${'b'.repeat(3000)}`;
  await channel.sendMessage(ALICE_JID, text, { buttons: [{ label: 'Yes, once', action: 'ap:apr-0123456789ab:yes' }] });
  expect(fake.sent).toHaveLength(2);
  expect(fake.sent[0].replyMarkup).toBeUndefined();
  expect(fake.sent[1].replyMarkup).toEqual({
    inline_keyboard: [[{ text: 'Yes, once', callback_data: 'ap:apr-0123456789ab:yes' }]],
  });

  await channel.sendMessage(ALICE_JID, 'plain');
  await channel.sendMessage(ALICE_JID, 'too long', { buttons: [{ label: 'X', action: 'x'.repeat(65) }] });
  expect(fake.sent.slice(2).map((m) => [m.text, m.replyMarkup])).toEqual([
    ['plain', undefined],
    ['too long', undefined],
  ]);
});

test("who tapped is Telegram's from.id under the owner rule; an answer with an outcome takes the keyboard off and adds it", async () => {
  await channel.sendMessage(ALICE_JID, 'Approval needed', {
    buttons: [{ label: 'No', action: 'ap:apr-0123456789ab:no' }],
  });
  // Bob's id is not the owner's, whatever he is called.
  expect(await tapAndWait({ ...BOB, first_name: 'Alice' }, 'ap:apr-0123456789ab:no')).toBe('Noted.');
  expect(presses.at(-1)).toEqual({
    chatJid: ALICE_JID,
    action: 'ap:apr-0123456789ab:no',
    fromOwner: false,
    sender: `tg:${BOB.id}`,
    senderName: 'Alice',
  });
  expect(fake.sent[0].replyMarkup).toBeDefined();

  reply = async () => ({ notice: 'Declined ABCD.', done: 'Declined ABCD: the agent is told no.' });
  expect(await tapAndWait(ALICE, 'ap:apr-0123456789ab:no')).toBe('Declined ABCD.');
  expect(presses.at(-1)!.fromOwner).toBe(true);
  await until(
    () => fake.sent[0].text.endsWith('Declined ABCD: the agent is told no.'),
    10_000,
    'the outcome in the message',
  );
  expect(fake.sent[0].text).toBe('Approval needed\n\nDeclined ABCD: the agent is told no.');
  expect(fake.sent[0].replyMarkup).toBeUndefined();
});

test('a tap the host fails to handle is still answered, with what to do instead', async () => {
  await channel.sendMessage(ALICE_JID, 'Approval needed', {
    buttons: [{ label: 'No', action: 'ap:apr-0123456789ab:no' }],
  });
  reply = async () => {
    throw new Error('database is locked');
  };
  expect(await tapAndWait(ALICE, 'ap:apr-0123456789ab:no')).toBe(
    'That did not work: answer by typing the code in the message instead.',
  );
  expect(fake.sent[0].replyMarkup).toBeDefined();
});
