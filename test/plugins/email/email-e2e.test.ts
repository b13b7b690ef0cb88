// The "done when", end to end: a real host (bwrap sandbox, Agent SDK, fake model) with a real mail
// account (Dovecot + Postfix on 127.0.0.1). The owner asks in the main chat what the landlord sent, the
// agent searches and reads through the email tools, drafts "I agree" as a threaded reply, and the mail
// leaves only after the owner's yes in the main chat — counted in the landlord's mailbox at the server.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../../support/harness.js';
import { startMailServer, type MailServer } from '../../support/mail-server.js';

let mail: MailServer;
let env: TestEnv;
const tool = (name: string, input: unknown) => ({ toolUse: { name: `mcp__nanoclaw__${name}`, input } });

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: `Tool said: ${text}` };
  if (text.includes('what did my landlord send me this week'))
    return tool('email_search', {
      from: 'landlord',
      since: new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10),
    });
  if (text.includes('read it')) {
    // The model reads the id from the conversation, as a real one would.
    const id = [...req.text.matchAll(/id (INBOX:\d+)/g)].map((m) => m[1]).at(-1);
    return tool('email_read', { id });
  }
  if (text.includes('reply that I agree')) {
    const id = [...req.text.matchAll(/id (INBOX:\d+)/g)].map((m) => m[1]).at(-1);
    return tool('email_draft', { reply_to: id, body: 'I agree to the new lease. Best, Owner' });
  }
  if (text.includes('send it')) {
    const id = [...req.text.matchAll(/Draft (draft-[0-9a-f]+)/g)].map((m) => m[1]).at(-1);
    return tool('email_send', { draft_id: id });
  }
  return { text: 'OK' };
}

const replies = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => m.text as string);

/** The owner says something in the main chat and waits for a new reply matching `pattern`. */
async function ownerAsks(text: string, pattern: RegExp): Promise<string> {
  const before = replies(await env.messages('local:main')).length;
  const res = await env.api('/api/chats/local%3Amain/messages', {
    method: 'POST',
    json: { sender: 'local-user', senderName: 'Owner', text },
  });
  expect(res.status).toBe(202);
  return env.replyAfter('local:main', before, pattern);
}

beforeAll(async () => {
  mail = await startMailServer();
  await mail.deliver(
    mail.users.landlord.address,
    mail.users.owner.address,
    mail.letter(
      `Pat Landlord <${mail.users.landlord.address}>`,
      'New lease',
      'The new lease starts in April; rent stays the same. Do you agree?',
      ['Message-ID: <lease-2026@landlord.example.test>'],
    ),
  );
  env = await startTestEnv({
    script,
    env: { ...mail.env(), NANOCLAW_APPROVAL_TIMEOUT_MS: '60000', NANOCLAW_APPROVAL_COOLDOWN_MS: '0' },
  });
}, 120_000);
afterAll(async () => {
  await env?.close();
  await mail?.stop();
});

test('"what did my landlord send me this week?" is answered from the mailbox, as external content', async () => {
  const found = await ownerAsks('what did my landlord send me this week?', /Tool said:/);
  expect(found).toMatch(/1 message in INBOX/);
  expect(found).toContain('New lease');
  const read = await ownerAsks('read it', /Tool said:.*Message INBOX/s);
  expect(read).toContain('The new lease starts in April');
  // What the model was given: the mail inside the external block, after the note that it is not the owner's.
  const seen = env.fake.requests.map((r) => r.text).join('\n');
  expect(seen).toMatch(/not by the owner[^]*<external-email id="INBOX:\d+">[^]*The new lease starts in April/);
  // The account never reaches the sandbox or the model.
  expect(seen).not.toContain(mail.users.owner.password);
});

test('"reply that I agree" makes a threaded draft that is sent only after the owner\'s yes', async () => {
  const drafted = await ownerAsks('reply that I agree', /Tool said: Draft draft-/);
  expect(drafted).toContain('Subject: Re: New lease');
  expect(mail.count(mail.users.owner.address, 'Drafts')).toBe(1);
  const before = mail.count(mail.users.landlord.address);

  // First the owner says no: nothing leaves.
  const asksBefore = replies(await env.messages('local:main')).filter((t) => t.startsWith('Approval needed')).length;
  const refused = ownerAsks('send it', /Tool said: Refused: The owner declined this/);
  const ask = async (n: number) => {
    const ms = await env.untilChat(
      'local:main',
      (m) => replies(m).filter((t) => t.startsWith('Approval needed')).length > n,
      60_000,
      'an approval request in the main chat',
    );
    return replies(ms).filter((t) => t.startsWith('Approval needed'))[n];
  };
  const first = await ask(asksBefore);
  expect(first).toMatch(/send an email from your account/);
  expect(first).toContain(`To: ${mail.users.landlord.address}`);
  expect(first).toContain('Subject: Re: New lease');
  expect(first).toContain('I agree to the new lease. Best, Owner');
  const code1 = /code ([A-Z2-9]{4})/.exec(first)![1];
  await env.api('/api/chats/local%3Amain/messages', {
    method: 'POST',
    json: { sender: 'local-user', text: `no ${code1}` },
  });
  await refused;
  expect(mail.count(mail.users.landlord.address)).toBe(before);

  // Then yes: exactly one mail arrives at the landlord's server, threaded to the original.
  const sent = ownerAsks('send it', /Tool said: Sent to landlord@example\.test/);
  const second = await ask(asksBefore + 1);
  const code2 = /code ([A-Z2-9]{4})/.exec(second)![1];
  await env.api('/api/chats/local%3Amain/messages', {
    method: 'POST',
    json: { sender: 'local-user', text: `yes ${code2}` },
  });
  await sent;
  await mail.waitForCount(mail.users.landlord.address, before + 1);
  const arrived = mail.messages(mail.users.landlord.address).at(-1)!;
  expect(arrived).toMatch(/^In-Reply-To: <lease-2026@landlord\.example\.test>/im);
  expect(arrived).toContain('I agree to the new lease.');
  expect(mail.count(mail.users.landlord.address)).toBe(before + 1);
  expect(mail.count(mail.users.owner.address, 'Drafts')).toBe(0);
});

test('status says the account logs in', async () => {
  const email = async () => ((await (await env.api('/api/status')).json()) as any).email;
  await until(async () => (await email())?.login?.state === 'ok', 30_000, 'the email login check');
  expect(await email()).toMatchObject({ configured: true, address: mail.users.owner.address, login: { state: 'ok' } });
});
