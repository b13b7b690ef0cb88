// End to end through the local HTTP API: real host, real bwrap sandbox, real
// Claude Agent SDK CLI, fake Anthropic API on 127.0.0.1.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

let env: TestEnv;
const delivered: { folder: string; kind: string }[] = [];
let script: (req: RecordedRequest) => any = () => undefined;

beforeAll(async () => {
  env = await startTestEnv({
    script: (req) => script(req),
    env: { IDLE_TIMEOUT: '1500' },
    host: { onPromptDelivered: (folder, kind) => delivered.push({ folder, kind }) },
  });
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:family', name: 'Family', folder: 'family' },
  });
  expect(res.status).toBe(201);
  const res2 = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:work', name: 'Work', folder: 'work' },
  });
  expect(res2.status).toBe(201);
});
afterAll(async () => {
  await env?.close();
});

const turns = () => env.fake.turnRequests();

test('a triggered message gets the scripted reply; an untriggered one is kept for the next catch-up', async () => {
  script = (req) => (lastUserText(req).includes('what time') ? { text: 'It is tea time.' } : { text: 'unexpected' });
  const id = await env.send('local:family', 'the cake is in the oven', 'Grandma');
  // Not addressed: stored and routed, and routing asked nobody.
  expect(await env.waitRouted((m) => m.id === id)).toBe('stored');
  expect(turns().length).toBe(0);
  expect((await env.messages('local:family')).map((m) => m.text)).toEqual(['the cake is in the oven']);

  await env.send('local:family', '@andy what time is it?', 'Sam');
  const [reply] = await env.waitForReply('local:family');
  expect(reply.text).toBe('It is tea time.');
  expect(reply.senderName).toBe('Andy');
  const prompt = lastUserText(turns()[0]);
  expect(prompt).toContain('sender="Grandma"');
  expect(prompt).toContain('the cake is in the oven');
  expect(prompt).toContain('@andy what time is it?');
  // Local time in TZ (Europe/Berlin), not UTC.
  const hh = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hour12: false }).format(
    new Date(),
  );
  expect(prompt).toMatch(new RegExp(`time="[^"]* ${hh}:\\d\\d"`));
});

test('CLAUDE.md from global and group memory reaches the model', async () => {
  fs.appendFileSync(
    path.join(env.home, 'groups/global/CLAUDE.md'),
    '\nThe user prefers metric units. GLOBAL-MEMORY-MARK\n',
  );
  fs.appendFileSync(path.join(env.home, 'groups/work/CLAUDE.md'), '\nStandup is at 9:30. WORK-MEMORY-MARK\n');
  script = () => ({ text: 'Noted.' });
  const before = turns().length;
  await env.send('local:work', '@Andy when is standup?');
  await env.waitForReply('local:work');
  const req = turns()[before];
  expect(req.text).toContain('GLOBAL-MEMORY-MARK');
  expect(req.text).toContain('WORK-MEMORY-MARK');
  // And not another group's memory.
  expect(req.text).not.toContain('Grandma');
});

test("the agent's Bash tool writes a file that exists in its group folder on the host and nowhere else", async () => {
  script = (req) =>
    isToolResultTurn(req)
      ? { text: 'Saved the list.' }
      : {
          toolUse: {
            name: 'Bash',
            input: { command: 'echo "milk, eggs" > shopping.txt && pwd && id -u', description: 'write list' },
          },
        };
  await env.send('local:family', '@Andy save my shopping list');
  const replies = await env.waitForReply('local:family', { count: 2 });
  expect(replies[1].text).toBe('Saved the list.');
  expect(fs.readFileSync(path.join(env.home, 'groups/family/shopping.txt'), 'utf8')).toBe('milk, eggs\n');
  expect(fs.existsSync(path.join(env.home, 'groups/work/shopping.txt'))).toBe(false);
  expect(fs.existsSync(path.join(env.home, 'shopping.txt'))).toBe(false);
  expect(fs.existsSync(path.join(env.home, 'groups/main/shopping.txt'))).toBe(false);
  const toolResult = lastUserText(turns()[turns().length - 1]);
  expect(toolResult).toContain('/workspace/group');
  expect(toolResult).toMatch(/\b1000\b/); // not root inside
});

test('a second message resumes the same session', async () => {
  await until(() => !env.host.agents.has('local:family'), 30_000, 'family agent to go idle');
  const session = env.host.store.groups.session('family');
  expect(session).toBeTruthy();
  script = () => ({ text: 'Welcome back.' });
  const before = turns().length;
  await env.send('local:family', '@Andy are you still there?');
  await env.waitForReply('local:family', { count: 3 });
  const req = turns()[before];
  // The resumed conversation carries the earlier turns.
  expect(req.text).toContain('save my shopping list');
  expect(req.text).toContain('are you still there?');
  expect(env.host.store.groups.session('family')).toBe(session);
});

test('follow-ups sent while the agent works are streamed into the running agent', async () => {
  await until(() => !env.host.agents.has('local:main'), 30_000, 'main agent to go idle');
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  script = async (req) => {
    const text = lastUserText(req);
    if (text.includes('first question')) {
      await gate;
      return { text: 'Answer one.' };
    }
    if (text.includes('second question')) return { text: 'Answer two.' };
    return undefined;
  };
  delivered.length = 0;
  await env.send('local:main', 'first question');
  await until(() => turns().some((r) => lastUserText(r).includes('first question')), 30_000, 'first turn at the model');
  await env.send('local:main', 'second question');
  release();
  const replies = await env.waitForReply('local:main', { count: 2 });
  expect(replies.map((r) => r.text)).toEqual(['Answer one.', 'Answer two.']);
  const main = delivered.filter((d) => d.folder === 'main');
  expect(main.map((d) => d.kind)).toEqual(['cold', 'warm']);
});
