// Email as a chat: mail from a sender the owner allows becomes a chat of its own, answered by a threaded reply
// from the account; mail that came while the host was down is answered once after it starts; strangers and
// autoresponders get nothing. Counted in the senders' Maildirs at a real mail server (Dovecot + Postfix).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lastUserText, type RecordedRequest } from '../../support/fake-anthropic.js';
import { startTestEnv, type TestEnv } from '../../support/harness.js';
import { startMailServer, type MailServer } from '../../support/mail-server.js';

let mail: MailServer;
let env: TestEnv;

/** The assistant answers each mail naming every token in it, so each reply says which mail it answers. */
function script(req: RecordedRequest) {
  const tokens = lastUserText(req).match(/token-[a-z]+/g);
  return { text: tokens ? `Noted ${[...new Set(tokens)].join(' ')}.` : 'OK' };
}

const landlord = () => mail.users.landlord.address;
const send = (from: string, token: string, extra?: string[]) =>
  mail.deliver(
    from,
    mail.users.owner.address,
    mail.letter(`Someone <${from}>`, `About ${token}`, `Hello, this is ${token}.`, [
      `Message-ID: <${token}@sender.example.test>`,
      ...(extra ?? []),
    ]),
  );
/** The tokens the assistant's replies in the landlord's Maildir answered, sorted (mail in one turn shares a reply). */
const tokensIn = (raws: string[]) =>
  raws.flatMap((raw) => /Noted ((?:token-[a-z]+ ?)+)\./.exec(raw)?.[1].split(' ') ?? []).sort();
const answered = () => tokensIn(mail.messages(landlord()));
const answeredTo = (token: string) =>
  mail.waitUntil(landlord(), (raws) => tokensIn(raws).includes(token), `an answer to ${token}`);

beforeAll(async () => {
  mail = await startMailServer();
  env = await startTestEnv({ script, env: mail.env({ EMAIL_CHAT_FROM: mail.users.landlord.address }) });
}, 120_000);
afterAll(async () => {
  await env?.close();
  await mail?.stop();
});

test('a mail from an allowed sender is answered in its own chat, as a threaded reply from the account', async () => {
  await send(landlord(), 'token-boiler');
  await answeredTo('token-boiler');
  const reply = mail.messages(landlord())[0];
  expect(reply).toMatch(/^Subject: Re: About token-boiler/m);
  expect(reply).toMatch(/^In-Reply-To: <token-boiler@sender\.example\.test>/m);
  expect(reply).toMatch(/^From: .*owner@example\.test/m);
  expect(reply).toMatch(/^Auto-Submitted: auto-replied/m);
  expect(answered()).toEqual(['token-boiler']);

  // The chat is the sender's own, and the owner was told it exists.
  const chat = await env.messages(`email:${landlord()}`);
  expect(chat.map((m) => m.fromAssistant)).toEqual([false, true]);
  expect(chat[0].text).toContain('Hello, this is token-boiler.');
  await env.untilChat('local:main', (ms) =>
    ms.some((m) => /Mail from landlord@example\.test is now a chat/.test(m.text)),
  );
});

test('a stranger and an autoresponder get no answer; the next allowed mail is answered', async () => {
  await send(mail.users.friend.address, 'token-stranger');
  await send(landlord(), 'token-away', ['Auto-Submitted: auto-replied']);
  await send(landlord(), 'token-rent');
  await answeredTo('token-rent');
  expect(answered()).toEqual(['token-boiler', 'token-rent']);
  expect(mail.count(mail.users.friend.address)).toBe(0);
});

test('after the mail server restarts, the inbox is followed again and new mail is answered', async () => {
  await mail.restartImap();
  await send(landlord(), 'token-heating');
  await answeredTo('token-heating');
  expect(answered()).toEqual(['token-boiler', 'token-heating', 'token-rent']);
});

test('mail that came while the host was down is answered once after it starts, and never again', async () => {
  await env.restart({}, async () => {
    await send(landlord(), 'token-keys');
    await send(landlord(), 'token-garden');
  });
  await answeredTo('token-garden');
  await answeredTo('token-keys');
  expect(answered()).toEqual(['token-boiler', 'token-garden', 'token-heating', 'token-keys', 'token-rent']);

  // Another restart, then one new mail: it alone is answered; nothing before it is answered twice.
  await env.restart();
  await send(landlord(), 'token-window');
  await answeredTo('token-window');
  expect(answered()).toEqual([
    'token-boiler',
    'token-garden',
    'token-heating',
    'token-keys',
    'token-rent',
    'token-window',
  ]);
  expect(mail.count(mail.users.friend.address)).toBe(0);
});
