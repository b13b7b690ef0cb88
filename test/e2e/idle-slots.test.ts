// A chat never waits behind idle agents: with every slot taken by agents idling for follow-ups, a new chat takes
// the slot of the one idle longest at once (its session kept for its next message), and an agent at work is never
// asked to make way. Real host, real SDK in bubblewrap, a scripted model; IDLE_TIMEOUT is ten minutes, so an answer
// that waited for an idle agent to time out would not come within the test's time.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

let env: TestEnv;
let release: () => void = () => {};
const held = new Promise<void>((r) => (release = r));
let holding = false;

async function script(req: RecordedRequest) {
  if (!req.body?.tools?.length) return undefined;
  const text = lastUserText(req);
  if (text.includes('take your time')) {
    holding = true;
    await held;
    return { text: 'Took my time.' };
  }
  const said = [...text.matchAll(/\b(Q\d) from ([abc])\b/g)].pop();
  return { text: said ? `Answer to ${said[1]} from ${said[2]}.` : 'OK' };
}

const chats = ['a', 'b', 'c'].map((folder) => ({ folder, jid: `local:${folder}` }));
const jidOf = (folder: string) => `local:${folder}`;
const replies = async (folder: string) =>
  (await env.messages(jidOf(folder))).filter((m) => m.fromAssistant).map((m) => String(m.text));
const live = () => [...env.host.agents.keys()].sort();

beforeAll(async () => {
  env = await startTestEnv({ script, env: { MAX_CONCURRENT_AGENTS: '2', IDLE_TIMEOUT: '600000' } });
  for (const { folder, jid } of chats) {
    const res = await env.api('/api/groups', {
      method: 'POST',
      json: { jid, name: folder, folder, requiresTrigger: false },
    });
    expect(res.status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  release();
  await env?.close();
});

test('a third chat takes the slot of the agent idle longest, which keeps its session', async () => {
  await env.send(jidOf('a'), 'Q1 from a');
  await env.waitForReply(jidOf('a'));
  await env.send(jidOf('b'), 'Q1 from b');
  await env.waitForReply(jidOf('b'));
  expect(live()).toEqual(['local:a', 'local:b']);

  await env.send(jidOf('c'), 'Q1 from c');
  expect(await env.replyAfter(jidOf('c'), 0, /Answer to Q1 from c/, 60_000)).toBe('Answer to Q1 from c.');
  // a had idled longest: it made way; b's agent still waits for its follow-up.
  await until(() => !env.host.agents.has('local:a'), 10_000);
  expect(env.host.agents.has('local:b')).toBe(true);

  await env.send(jidOf('a'), 'Q2 from a');
  await env.waitForReply(jidOf('a'), { count: 2, timeoutMs: 60_000 });
  expect(await replies('a')).toEqual(['Answer to Q1 from a.', 'Answer to Q2 from a.']);
  // Its session was resumed: the model saw a's first message again with the second.
  const second = env.fake.turnRequests().find((r) => lastUserText(r).includes('Q2 from a'))!;
  expect(second.text).toContain('Q1 from a');
});

test('an agent at work is never asked to make way; the idle one is', async () => {
  // Now a and c hold the slots (b made way for a). c starts a long turn.
  await until(() => live().join() === 'local:a,local:c', 10_000);
  await env.send(jidOf('c'), 'take your time');
  await until(() => holding, 30_000);
  await env.send(jidOf('b'), 'Q2 from b');
  expect(await env.replyAfter(jidOf('b'), 1, /Answer to Q2 from b/, 60_000)).toBe('Answer to Q2 from b.');
  expect(env.host.agents.has('local:a')).toBe(false);
  expect(env.host.agents.get('local:c')?.inTurn).toBe(true);

  release();
  await env.waitForReply(jidOf('c'), { count: 2, timeoutMs: 60_000 });
  expect(await replies('c')).toEqual(['Answer to Q1 from c.', 'Took my time.']);
  expect(await replies('b')).toEqual(['Answer to Q1 from b.', 'Answer to Q2 from b.']);
});
