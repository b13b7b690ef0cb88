// Mail as it really arrives, not as it should: two 25 MB mails (a scan attached; a log as one text part)
// and a malformed one (boundaries that do not match, a charset nobody knows, base64 cut off mid-way), each
// delivered through Postfix's SMTP into Dovecot. Search still lists them, read answers within its cap and
// says what it left out, nothing crashes or hangs, and the ordinary mail beside them reads as before.
import crypto from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Identity } from '../../../src/core/gateway/gateway.js';
import { createToolRegistry, type ToolCall } from '../../../src/core/tools/registry.js';
import { emailSettings } from '../../../src/plugins/email/settings.js';
import { createEmailTools } from '../../../src/plugins/email/tools.js';
import { startMailServer, type MailServer } from '../../support/mail-server.js';

let mail: MailServer;
let call: ToolCall;
const MAIN: Identity = { groupFolder: 'main', chatJid: 'local:main', isMain: true, taskId: null };
const text = (a: { ok: boolean; text?: string; error?: string }) => (a.ok ? a.text! : `REFUSED ${a.error}`);

function headers(from: string, subject: string, extra: string[]): string[] {
  return [
    `From: ${from}`,
    `To: ${mail.users.owner.address}`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${crypto.randomUUID()}@elsewhere.test>`,
    'MIME-Version: 1.0',
    ...extra,
  ];
}

/** 25 MB: a long text part (longer than read shows) and a big attachment, as a scanner or a camera sends. */
function bigMail(): string {
  const b = 'big-b0undary';
  const report = Array.from({ length: 4000 }, (_, i) => `Quarterly report line ${i + 1}: all is well.`).join('\r\n');
  const scan = crypto.randomBytes(18_500_000).toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    ...headers(`Scanner <${mail.users.friend.address}>`, 'Scanned report', [
      `Content-Type: multipart/mixed; boundary="${b}"`,
    ]),
    '',
    `--${b}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `BIGMAIL_START ${report}`,
    `--${b}`,
    'Content-Type: application/pdf; name="scan.pdf"',
    'Content-Disposition: attachment; filename="scan.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    scan,
    `--${b}--`,
    '',
  ].join('\r\n');
}

/** 25 MB in one text/plain part, no MIME structure at all: a log someone mailed. */
function hugeText(): string {
  const lines = Array.from({ length: 550_000 }, (_, i) => `log entry ${i + 1}: nothing happened here at all`);
  return [
    ...headers(`Logger <${mail.users.friend.address}>`, 'Huge log', ['Content-Type: text/plain; charset=utf-8']),
    '',
    `HUGELOG_START ${lines.join('\r\n')}`,
  ].join('\r\n');
}

/** Boundaries that do not match, a charset that does not exist, base64 cut off, no closing boundary. */
function brokenMail(): string {
  return [
    ...headers(`Broken Mailer <${mail.users.landlord.address}>`, 'Broken =?x-nonsense?Q?subject?=', [
      'Content-Type: multipart/mixed; boundary="declared-boundary"',
    ]),
    '',
    'Preamble nobody sees.',
    '--declared-boundary',
    'Content-Type: text/plain; charset="x-no-such-charset-42"',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Meeting notes: bring the budget =E9=XX=',
    '--declared-boundary',
    'Content-Type: multipart/alternative; boundary="inner-never-used"',
    '',
    '--some-other-boundary',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Half a part',
    '--declared-boundary',
    'Content-Type: application/octet-stream; name="cut.bin"',
    'Content-Disposition: attachment; filename="cut.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZUR',
    'ZWNvZGU+PgpzdHJlYW0Ke!!*notbase64*',
    'QWxzbyBicm9rZW4',
  ].join('\r\n');
}

beforeAll(async () => {
  mail = await startMailServer();
  const settings = emailSettings(mail.env());
  call = createToolRegistry({
    tools: createEmailTools({ settings: () => settings, noteLogin: () => {} }),
    approve: async () => 'The owner said no.',
  });
  const { owner, landlord, friend } = mail.users;
  const plain = (subject: string, body: string) =>
    [...headers(`Sam <${friend.address}>`, subject, ['Content-Type: text/plain; charset=utf-8']), '', body].join(
      '\r\n',
    );
  await mail.deliver(friend.address, owner.address, plain('Before the storm', 'An ordinary mail, first.'));
  await mail.deliver(friend.address, owner.address, bigMail());
  await mail.deliver(landlord.address, owner.address, brokenMail());
  await mail.deliver(friend.address, owner.address, hugeText());
  await mail.deliver(friend.address, owner.address, plain('After the storm', 'An ordinary mail, last.'));
}, 180_000);
afterAll(async () => {
  await mail?.stop();
});

const idOf = (list: string, subject: string) => new RegExp(`id (INBOX:\\d+) [^\\n]*${subject}`).exec(list)![1];

test('search lists the 25 MB mail and the malformed one beside the ordinary mail', async () => {
  const all = text(await call(MAIN, 'email_search', {}));
  expect(all).toMatch(/^5 messages in INBOX/);
  expect(all).toMatch(/Huge log[^\n]*2\d\.\d MB/);
  expect(all).toMatch(/Scanned report[^\n]*\d+\.\d MB/);
  expect(all).toContain('Broken');
  expect(text(await call(MAIN, 'email_search', { words: 'budget' }))).toMatch(/^1 message in INBOX[^]*Broken/);
  expect(text(await call(MAIN, 'email_search', { words: 'BIGMAIL_START' }))).toMatch(/^1 message[^]*Scanned report/);
}, 60_000);

test('reading the 25 MB mail shows its text within the cap and says what was left out', async () => {
  const id = idOf(text(await call(MAIN, 'email_search', { from: 'Scanner' })), 'Scanned report');
  const started = Date.now();
  const r = text(await call(MAIN, 'email_read', { id }));
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(r).not.toMatch(/^REFUSED/);
  expect(r).toContain('BIGMAIL_START Quarterly report line 1: all is well.');
  expect(r).toMatch(/more characters not shown/);
  expect(r).not.toContain('Quarterly report line 4000');
  expect(r).toMatch(/scan\.pdf \(application\/pdf, 1[78]\.\d MB\)/);
  expect(r).toMatch(
    /It is 2\d\.\d MB, more than the 15\.0 MB read whole[^]*attachments are listed but were not opened/,
  );
  expect(r.length).toBeLessThan(40_000);
}, 60_000);

test('reading a 25 MB single-part text mail shows its beginning and says the rest was left out', async () => {
  const id = idOf(text(await call(MAIN, 'email_search', { from: 'Logger' })), 'Huge log');
  const r = text(await call(MAIN, 'email_read', { id }));
  expect(r).not.toMatch(/^REFUSED/);
  expect(r).toMatch(/It is 2\d\.\d MB, more than the 15\.0 MB read whole/);
  expect(r).toContain('HUGELOG_START log entry 1: nothing happened here at all');
  expect(r).toMatch(/more characters not shown/);
  expect(r).toMatch(/Attachments: none/);
  expect(r.length).toBeLessThan(40_000);
}, 60_000);

test('reading the malformed mail answers with what could be read, without crashing or hanging', async () => {
  const id = idOf(text(await call(MAIN, 'email_search', { from: 'landlord' })), 'Broken');
  const r = text(await call(MAIN, 'email_read', { id }));
  expect(r).not.toMatch(/^REFUSED/);
  expect(r).toContain('Meeting notes: bring the budget');
  // The cut-off attachment is listed, not opened.
  expect(r).toMatch(/- cut\.bin \(application\/octet-stream, \d+ B\)/);
  expect(r).toMatch(/<external-email id="INBOX:\d+">/);
  expect(r.length).toBeLessThan(40_000);
}, 60_000);

test('the ordinary mail around them is unaffected', async () => {
  const list = text(await call(MAIN, 'email_search', { words: 'storm' }));
  expect(list).toMatch(/^2 messages in INBOX/);
  expect(text(await call(MAIN, 'email_read', { id: idOf(list, 'Before the storm') }))).toContain(
    'An ordinary mail, first.',
  );
  expect(text(await call(MAIN, 'email_read', { id: idOf(list, 'After the storm') }))).toContain(
    'An ordinary mail, last.',
  );
  // And a reply to the malformed mail is drafted as to any other.
  const broken = idOf(text(await call(MAIN, 'email_search', { from: 'landlord' })), 'Broken');
  const d = text(await call(MAIN, 'email_draft', { reply_to: broken, body: 'Noted.' }));
  expect(d).toMatch(/^Draft draft-[0-9a-f]+ saved/);
  expect(d).toContain(`To: ${mail.users.landlord.address}`);
}, 60_000);
