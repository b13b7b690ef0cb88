// A reminder keeps its time while the chat's agent is alive: real host, real
// bwrap sandbox, real Agent SDK, fake model, the real clock, and the default
// IDLE_TIMEOUT (an agent waits five minutes for follow-ups).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

let env: TestEnv;
const JID = 'local:family';
/** Turns held by the test until it lets them answer. */
const held = new Map<string, () => void>();

async function script(req: RecordedRequest) {
  const text = lastUserText(req);
  const reminder = /REMINDER_(\w+)/.exec(text);
  if (reminder && text.includes('scheduled run')) return { text: `Reminder: ${reminder[1]}` };
  const hold = /HOLD_(\w+)/.exec(text);
  if (hold) {
    await new Promise<void>((r) => held.set(hold[1], r));
    return { text: `Held ${hold[1]} answered` };
  }
  const say = /SAY_(\w+)/.exec(text);
  return { text: say ? `Answer ${say[1]}` : 'OK' };
}

const replyTexts = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => m.text as string);
const replies = async () => replyTexts(await env.messages(JID));

async function ask(text: string, timeoutMs?: number): Promise<string> {
  const before = (await replies()).length;
  await env.send(JID, text);
  return (await env.waitForReply(JID, { count: before + 1, timeoutMs }))[before].text;
}

async function remindAt(dueMs: number, what: string): Promise<string> {
  const res = await env.api('/api/tasks', {
    method: 'POST',
    json: {
      group_folder: 'family',
      prompt: `REMINDER_${what}`,
      schedule_type: 'once',
      schedule_value: new Date(dueMs).toISOString(),
    },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as any).task.id;
}

const requestWith = (marker: string) =>
  env.fake
    .turnRequests()
    .filter((r) => lastUserText(r).includes(marker))
    .at(-1)!;

beforeAll(async () => {
  env = await startTestEnv({ script, env: { IDLE_TIMEOUT: '300000' } });
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: JID, name: 'Family', folder: 'family', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  for (const r of held.values()) r();
  await env?.close();
});

test('a reminder due 5 s after an answer fires while the agent waits for follow-ups, and the conversation resumes its session after it', async () => {
  expect(await ask('SAY_hello remind me in a few seconds')).toBe('Answer hello');
  const session = env.host.store.groups.session('family');
  expect(session).toBeTruthy();
  expect(env.host.agents.has(JID)).toBe(true);

  await remindAt(Date.now() + 5000, 'stretch');
  await env.untilChat(JID, (ms) => replyTexts(ms).includes('Reminder: stretch'), 15_000, 'the reminder in the chat');

  expect(await ask('SAY_after what did I first say?')).toBe('Answer after');
  expect(requestWith('SAY_after').text).toContain('SAY_hello remind me in a few seconds');
  expect(env.host.store.groups.session('family')).toBe(session);
});

test('the chat keeps talking and the reminder still runs; every message is answered', async () => {
  await remindAt(Date.now() + 3000, 'water');
  const sent: string[] = [];
  // Follow-ups keep arriving: each one would reset the agent's idle wait.
  for (let i = 0; i < 60 && !(await replies()).includes('Reminder: water'); i++) {
    sent.push(`m${i}`);
    await env.send(JID, `SAY_m${i}`);
    await env.untilChat(
      JID,
      (ms) => replyTexts(ms).includes(`Answer m${i}`) || replyTexts(ms).includes('Reminder: water'),
      15_000,
      `an answer to m${i} or the reminder`,
    );
  }
  expect(await replies()).toContain('Reminder: water');
  for (const m of sent)
    await env.untilChat(JID, (ms) => replyTexts(ms).includes(`Answer ${m}`), 30_000, `the answer to ${m}`);
});

test('a busy agent finishes its turn, then the reminder runs, then the messages that came meanwhile are answered', async () => {
  const due = Date.now() + 1500;
  await remindAt(due, 'call');
  await env.send(JID, 'HOLD_slow take your time');
  await until(() => held.has('slow'), 30_000, 'the slow turn to reach the model');
  await until(() => Date.now() > due, 5000, 'the reminder to be due');
  env.host.scheduler.check();
  await env.send(JID, 'SAY_meanwhile are you there?');
  held.get('slow')!();
  await env.untilChat(
    JID,
    (ms) => replyTexts(ms).includes('Answer meanwhile'),
    30_000,
    'the answer to the message sent meanwhile',
  );
  const order = (await replies()).filter((t) =>
    ['Held slow answered', 'Reminder: call', 'Answer meanwhile'].includes(t),
  );
  expect(order).toEqual(['Held slow answered', 'Reminder: call', 'Answer meanwhile']);
});
