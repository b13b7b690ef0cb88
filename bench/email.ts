// Email: searching a 10,000-message inbox through the email_search path, and how long a mail to the
// assistant's email chat waits for its answer (from landing in the inbox to the reply landing in the
// sender's). A real Dovecot and Postfix on 127.0.0.1, as in the tests (root and the Debian packages needed).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { searchMail } from '../src/plugins/email/mailbox.js';
import { emailSettings } from '../src/plugins/email/settings.js';
import { startTestEnv } from '../test/support/harness.js';
import { startMailServer, type MailServer } from '../test/support/mail-server.js';

type RowFn = (area: string, metric: string, value: string, target?: string, met?: boolean) => void;

const ms = (v: number) => `${Math.round(v)} ms`;
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Writes `n` mails straight into the owner's Maildir (as delivered mail sits there); one in 1,000 says "needle". */
function fillInbox(mail: MailServer, n: number): void {
  const dir = path.join(mail.dir, 'mail', mail.users.owner.address);
  for (const sub of ['new', 'cur', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  const day = Date.UTC(2026, 0, 1);
  for (let i = 0; i < n; i++) {
    const date = new Date(day + i * 60_000).toUTCString();
    const body = i % 1000 === 7 ? `The needle is in mail ${i}.` : `Ordinary mail number ${i}, about nothing much.`;
    fs.writeFileSync(
      path.join(dir, 'new', `${1_700_000_000 + i}.bench${i}.host`),
      `From: Sender ${i % 50} <s${i % 50}@example.test>\r\nTo: ${mail.users.owner.address}\r\nSubject: Mail ${i}\r\nDate: ${date}\r\nMessage-ID: <b${i}@example.test>\r\n\r\n${body}\r\n`,
    );
  }
  spawnSync('chown', ['-R', 'dovecot:dovecot', dir]);
}

export async function benchEmail(row: RowFn, quick: boolean): Promise<void> {
  let mail: MailServer;
  try {
    mail = await startMailServer();
  } catch (err) {
    row('email', 'search / email chat', `not measured: ${(err as Error).message.split('\n')[0]}`);
    return;
  }
  try {
    const count = 10_000;
    fillInbox(mail, count);
    const s = emailSettings(mail.env());
    let t = performance.now();
    const first = await searchMail(s, { words: 'needle' });
    const cold = performance.now() - t;
    if (!/^10 messages/.test(first)) throw new Error(`search found the wrong mail: ${first.slice(0, 80)}`);
    const warm: number[] = [];
    for (let i = 0; i < (quick ? 3 : 10); i++) {
      t = performance.now();
      await searchMail(s, { words: 'needle', since: '2026-01-01' });
      warm.push(performance.now() - t);
    }
    row('email', `email_search over ${count.toLocaleString('en-US')} messages (first, index built)`, ms(cold));
    row(
      'email',
      `email_search over ${count.toLocaleString('en-US')} messages (p50 after)`,
      ms(p50(warm)),
      '≤ 1 s',
      p50(warm) <= 1000,
    );

    const env = await startTestEnv({
      script: () => ({ text: 'Thanks, noted.' }),
      env: mail.env({ EMAIL_CHAT_FROM: mail.users.landlord.address }),
    });
    try {
      const from = mail.users.landlord.address;
      const waits: number[] = [];
      for (let i = 0; i < (quick ? 2 : 5); i++) {
        const before = mail.count(from);
        await mail.deliver(
          from,
          mail.users.owner.address,
          `From: ${from}\r\nTo: ${mail.users.owner.address}\r\nSubject: Bench ${i}\r\nMessage-ID: <bench-chat-${i}@example.test>\r\n\r\nHello ${i}\r\n`,
        );
        t = performance.now();
        await mail.waitForCount(from, before + 1, undefined, 120_000);
        waits.push(performance.now() - t);
      }
      row('email', `email chat: mail in the inbox → reply in the sender's (first)`, ms(waits[0]!));
      row(
        'email',
        `email chat: mail in the inbox → reply in the sender's (p50 after)`,
        ms(p50(waits.slice(1))),
        '≤ 3 s',
        p50(waits.slice(1)) <= 3000,
      );
    } finally {
      await env.close();
    }
  } finally {
    await mail.stop();
  }
}
