// A draft outlives a restart of the host: email_draft keeps it in the host's store (never in a sandbox),
// so after the host restarts, "send it" still asks the owner with the whole draft, and their yes sends it
// once — counted in the recipient's Maildir at the real mail server (Dovecot + Postfix on 127.0.0.1).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../../support/fake-anthropic.js';
import { startTestEnv, type TestEnv } from '../../support/harness.js';
import { startMailServer, type MailServer } from '../../support/mail-server.js';

let mail: MailServer;
let env: TestEnv;
const tool = (name: string, input: unknown) => ({ toolUse: { name: `mcp__nanoclaw__${name}`, input } });

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: `Tool said: ${text}` };
  if (text.includes('write the landlord'))
    return tool('email_draft', { to: ['landlord@example.test'], subject: 'Keys', body: 'I will drop the keys off.' });
  const send = /send (draft-[0-9a-f]+)/.exec(text);
  if (send) return tool('email_send', { draft_id: send[1] });
  return { text: 'OK' };
}

const replies = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => m.text as string);

async function say(text: string): Promise<void> {
  const res = await env.api('/api/chats/local%3Amain/messages', {
    method: 'POST',
    json: { sender: 'local-user', senderName: 'Owner', text },
  });
  expect(res.status).toBe(202);
}

const reply = (pattern: RegExp, after: number) => env.replyAfter('local:main', after, pattern);

const replyCount = async () => replies(await env.messages('local:main')).length;

beforeAll(async () => {
  mail = await startMailServer();
  env = await startTestEnv({
    script,
    env: { ...mail.env(), NANOCLAW_APPROVAL_TIMEOUT_MS: '60000', NANOCLAW_APPROVAL_COOLDOWN_MS: '0' },
  });
}, 120_000);
afterAll(async () => {
  await env?.close();
  await mail?.stop();
});

test("a draft made before the host restarts is sent after it, once, on the owner's yes", async () => {
  let before = await replyCount();
  await say('write the landlord that I will drop the keys off');
  const drafted = await reply(/Tool said: Draft draft-/, before);
  const draftId = /Draft (draft-[0-9a-f]+)/.exec(drafted)![1];
  expect(mail.count(mail.users.owner.address, 'Drafts')).toBe(1);
  const arrived = mail.count(mail.users.landlord.address);

  await env.restart();

  before = await replyCount();
  await say(`send ${draftId}`);
  const ask = await reply(/^Approval needed/, before);
  expect(ask).toContain(`To: ${mail.users.landlord.address}`);
  expect(ask).toContain('Subject: Keys');
  expect(ask).toContain('I will drop the keys off.');
  expect(mail.count(mail.users.landlord.address)).toBe(arrived);
  const code = /code ([A-Z2-9]{4})/.exec(ask)![1];
  await say(`yes ${code}`);
  expect(await reply(/Tool said: /, before)).toMatch(/Tool said: Sent to landlord@example\.test/);

  await mail.waitForCount(mail.users.landlord.address, arrived + 1);
  expect(mail.messages(mail.users.landlord.address).at(-1)).toContain('I will drop the keys off.');
  expect(mail.count(mail.users.owner.address, 'Drafts')).toBe(0);

  // Sent once: asking again finds no draft, and nothing more arrives.
  before = await replyCount();
  await say(`send ${draftId}`);
  expect(await reply(/Tool said: /, before)).toMatch(/There is no draft/);
  await new Promise((r) => setTimeout(r, 1000));
  expect(mail.count(mail.users.landlord.address)).toBe(arrived + 1);
});
