// The per-turn cap on send_message, end to end: a scripted model asks for many
// messages in one assistant message (parallel tool use) through the real SDK in
// a real bwrap sandbox; the chat receives at most the cap, and the model is
// told why the rest were refused.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, type TestEnv } from '../support/harness.js';

let env: TestEnv;

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: 'Done.' };
  const burst = /BURST (\w+) (\d+)/.exec(text);
  if (!burst) return { text: 'OK' };
  const [, tag, count] = burst;
  return {
    toolUses: Array.from({ length: Number(count) }, (_, i) => ({
      name: 'mcp__nanoclaw__send_message',
      input: { text: `${tag} part ${i + 1}` },
    })),
  };
}

beforeAll(async () => {
  env = await startTestEnv({ script, env: { IDLE_TIMEOUT: '20000' } });
});
afterAll(async () => {
  await env?.close();
});

const parts = async (jid: string, tag: string) =>
  (await env.messages(jid)).filter((m) => m.fromAssistant && m.text.startsWith(`${tag} part`));
const done = (ms: any[]) => ms.filter((m) => m.fromAssistant && m.text === 'Done.').length;
const refusals = (req: RecordedRequest) =>
  lastUserText(req).match(/Not sent: this turn already sent 10 messages, the most this chat allows per turn \(10\)/g)
    ?.length ?? 0;

test('30 parallel send_message calls in one turn: 10 reach the chat, the model hears why the other 20 did not', async () => {
  await env.send('local:main', 'BURST flood 30');
  await env.untilChat('local:main', (ms) => done(ms) === 1, 90_000, 'the final reply');
  const sent = await parts('local:main', 'flood');
  expect(sent).toHaveLength(10);
  expect(new Set(sent.map((m) => m.text)).size).toBe(10);
  const toolResultTurn = env.fake.turnRequests().filter(isToolResultTurn).at(-1)!;
  expect(refusals(toolResultTurn)).toBe(20);
  expect(lastUserText(toolResultTurn)).toContain('sandbox.maxMessagesPerTurn');

  // The next turn of the same live agent starts counting again.
  expect(env.host.agents.has('local:main')).toBe(true);
  await env.send('local:main', 'BURST again 3');
  await env.untilChat('local:main', (ms) => done(ms) === 2, 90_000, 'the second final reply');
  expect((await parts('local:main', 'again')).map((m) => m.text)).toEqual(
    expect.arrayContaining(['again part 1', 'again part 2', 'again part 3']),
  );
});

test('a group set to 3 messages per turn (PATCH sandbox.maxMessagesPerTurn) gets 3', async () => {
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:family', name: 'Family', folder: 'family', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
  const patch = await env.api(`/api/groups/${encodeURIComponent('local:family')}`, {
    method: 'PATCH',
    json: { sandbox: { maxMessagesPerTurn: 3 } },
  });
  expect(patch.status).toBe(200);
  await env.send('local:family', 'BURST fam 5');
  await env.untilChat('local:family', (ms) => done(ms) === 1, 90_000, 'the family reply');
  expect(await parts('local:family', 'fam')).toHaveLength(3);
  const toolResultTurn = env.fake.turnRequests().filter(isToolResultTurn).at(-1)!;
  expect(
    lastUserText(toolResultTurn).match(
      /Not sent: this turn already sent 3 messages, the most this chat allows per turn \(3\)/g,
    ),
  ).toHaveLength(2);
});
