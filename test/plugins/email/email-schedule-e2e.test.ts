// Email through the real host (bwrap sandbox, Agent SDK, fake model) with a real mail account (Dovecot +
// Postfix on 127.0.0.1), for what needs time: a send request the owner never answers is a no, and nothing
// reaches the recipient's server; and the seed's example, "every weekday at 17:00 send me a summary of
// today's email", becomes a cron task whose run searches today's mail and posts one summary in the chat.
// The scheduler's clock is the host's injectable one: the test moves it to the task's next run.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../../support/harness.js';
import { startMailServer, type MailServer } from '../../support/mail-server.js';

let mail: MailServer;
let env: TestEnv;
/** The host's clock: real time, moved ahead by `offset` when the test jumps to a task's run. */
const clock = { offset: 0 };
const tool = (name: string, input: unknown) => ({ toolUse: { name: `mcp__nanoclaw__${name}`, input } });
/** The real day the test mail was delivered on, as the model would read it off the run's date. */
const today = () => new Date().toISOString().slice(0, 10);

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) {
    // The scheduled run's search came back: the model writes its one summary from it.
    if (req.text.includes('SUMMARY_RUN') && /messages? in INBOX/.test(text)) {
      const subjects = [...text.matchAll(/subject "([^"]*)"/g)].map((m) => m[1]);
      return { text: `Summary of today's email: ${subjects.length} mails (${subjects.join('; ')}).` };
    }
    return { text: `Tool said: ${text}` };
  }
  if (text.includes('every weekday at 17:00 send me a summary of today')) {
    return tool('schedule_task', {
      prompt: "SUMMARY_RUN: search today's email with email_search and send the owner a short summary of it",
      schedule_type: 'cron',
      schedule_value: '0 17 * * 1-5',
    });
  }
  if (text.includes('SUMMARY_RUN')) return tool('email_search', { since: today() });
  if (text.includes('write the landlord')) {
    return tool('email_draft', {
      to: ['landlord@example.test'],
      subject: 'Heating',
      body: 'The heating is broken again.',
    });
  }
  if (text.includes('send it')) {
    const id = [...req.text.matchAll(/Draft (draft-[0-9a-f]+)/g)].map((m) => m[1]).at(-1);
    return tool('email_send', { draft_id: id });
  }
  return { text: 'OK' };
}

const replies = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => m.text as string);

/** The owner says something in the main chat and waits for a new reply matching `pattern`. */
async function ownerAsks(text: string, pattern: RegExp, timeoutMs = 90_000): Promise<string> {
  const before = replies(await env.messages('local:main')).length;
  const res = await env.api('/api/chats/local%3Amain/messages', {
    method: 'POST',
    json: { sender: 'local-user', senderName: 'Owner', text },
  });
  expect(res.status).toBe(202);
  return env.replyAfter('local:main', before, pattern, timeoutMs);
}

beforeAll(async () => {
  mail = await startMailServer();
  const { owner, landlord, friend } = mail.users;
  await mail.deliver(
    landlord.address,
    owner.address,
    mail.letter(`Pat <${landlord.address}>`, 'Boiler visit', 'Tuesday.'),
  );
  await mail.deliver(
    friend.address,
    owner.address,
    mail.letter(`Sam <${friend.address}>`, 'Lunch Friday?', 'At noon?'),
  );
  env = await startTestEnv({
    script,
    host: { now: () => Date.now() + clock.offset },
    env: { ...mail.env(), NANOCLAW_APPROVAL_TIMEOUT_MS: '3000', NANOCLAW_APPROVAL_COOLDOWN_MS: '0' },
  });
}, 120_000);
afterAll(async () => {
  await env?.close();
  await mail?.stop();
});

test('a send request nobody answers is a no: the agent is told so and no mail arrives at the server', async () => {
  await ownerAsks('write the landlord that the heating is broken', /Tool said: Draft draft-/);
  expect(mail.count(mail.users.owner.address, 'Drafts')).toBe(1);
  const before = mail.count(mail.users.landlord.address);

  const refused = await ownerAsks('send it', /Tool said: Refused:/);
  expect(refused).toMatch(/Timed out|no answer/i);
  // The owner was asked in the chat, and never answered.
  const asks = replies(await env.messages('local:main')).filter((t) => t.startsWith('Approval needed'));
  expect(asks).toHaveLength(1);
  expect(asks[0]).toContain(`To: ${mail.users.landlord.address}`);
  // Nothing left: counted at the landlord's Maildir, after Postfix has had time to deliver anything queued.
  await new Promise((r) => setTimeout(r, 2000));
  expect(mail.count(mail.users.landlord.address)).toBe(before);
  expect(mail.count(mail.users.owner.address, 'Sent')).toBe(0);
  // The draft is still there for the owner to send later.
  expect(mail.count(mail.users.owner.address, 'Drafts')).toBe(1);
});

test('"every weekday at 17:00 send me a summary of today\'s email": a cron task whose run searches today\'s mail and posts one summary', async () => {
  const answer = await ownerAsks(
    "every weekday at 17:00 send me a summary of today's email",
    /Tool said: Scheduled task task-/,
  );
  expect(answer).toMatch(/cron "0 17 \* \* 1-5"/);
  const id = /task-[0-9a-f]{8}/.exec(answer)![0];
  const task = env.host.store.tasks.get(id)!;
  expect(task).toMatchObject({ groupFolder: 'main', chatJid: 'local:main', status: 'active', scheduleType: 'cron' });
  expect(new Date(task.nextRun!).getUTCMinutes()).toBe(0);

  // 17:00 on the next weekday: the scheduler looks, and the run goes.
  const summaries = async () =>
    replies(await env.messages('local:main')).filter((t) => t.startsWith("Summary of today's email"));
  expect(await summaries()).toHaveLength(0);
  clock.offset = Date.parse(task.nextRun!) + 1000 - Date.now();
  env.host.scheduler.check();
  await env.untilChat(
    'local:main',
    (ms) => replies(ms).some((t) => t.startsWith("Summary of today's email")),
    90_000,
    'the summary in the main chat',
  );
  await until(() => env.host.store.tasks.recentRuns(id)[0]?.status === 'success', 30_000, 'the run to be logged');

  // The run's agent searched today's mail through the email tool, on the host.
  const searched = env.fake.requests.find(
    (r) => isToolResultTurn(r) && r.text.includes('SUMMARY_RUN') && /messages? in INBOX/.test(lastUserText(r)),
  );
  expect(searched).toBeTruthy();
  expect(lastUserText(searched!)).toMatch(/^2 messages in INBOX/);
  const [summary] = await summaries();
  expect(summary).toContain('Boiler visit');
  expect(summary).toContain('Lunch Friday?');
  // Exactly one summary message, even after the agent and scheduler have settled.
  await new Promise((r) => setTimeout(r, 1500));
  env.host.scheduler.check();
  expect(await summaries()).toHaveLength(1);
  expect(Date.parse(env.host.store.tasks.get(id)!.nextRun!)).toBeGreaterThan(Date.parse(task.nextRun!));
});
