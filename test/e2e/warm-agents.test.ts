// Warm agents: an agent started before its chat's message (its session resumed, its memory read) answers that message
// in the sandbox already running; a memory change still gets a fresh sandbox; a chat that needs a slot takes a warm
// agent's at once; a due task still gets its own run; NANOCLAW_WARM_AGENTS=0 starts nothing. Real host, real SDK in
// bubblewrap, a scripted model. IDLE_TIMEOUT is ten minutes, so no agent closes by itself during a test.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

function script(req: RecordedRequest) {
  if (!req.body?.tools?.length) return undefined;
  const text = lastUserText(req);
  if (text.includes('TASK_RUN')) return { text: 'The task ran.' };
  const said = [...text.matchAll(/\b(Q\d+) in (\w+)\b/g)].pop();
  return { text: said ? `Answer to ${said[1]} in ${said[2]}.` : 'OK' };
}

/** Prompts handed to a runner: 'cold' in a new sandbox's start, 'warm' to one already running. */
const delivered: { folder: string; kind: string }[] = [];
const kindsFor = (folder: string) => delivered.filter((d) => d.folder === folder).map((d) => d.kind);
/** The scheduler's clock, moved ahead to make a task due. */
let ahead = 0;
const start = (env: Record<string, string>) =>
  startTestEnv({
    script,
    env: { IDLE_TIMEOUT: '600000', ...env },
    host: { now: () => Date.now() + ahead, onPromptDelivered: (folder, kind) => delivered.push({ folder, kind }) },
  });

async function addGroup(env: TestEnv, folder: string, requiresTrigger: boolean) {
  const json = { jid: `local:${folder}`, name: folder, folder, requiresTrigger };
  expect((await env.api('/api/groups', { method: 'POST', json })).status).toBe(201);
}
const replies = async (env: TestEnv, jid: string) =>
  (await env.messages(jid)).filter((m) => m.fromAssistant).map((m) => String(m.text));
/** Asked by the model: the turn requests that carried `text`. */
const asked = (env: TestEnv, text: string) => env.fake.turnRequests().filter((r) => lastUserText(r).includes(text));
/** A warm agent has waited since it started, with no turn yet. */
const warmAgent = (env: TestEnv, jid: string) => {
  const a = env.host.agents.get(jid);
  return a && a.idleSince === 0 ? a : undefined;
};
/** Everything the sessions of a group's folder have recorded. */
const transcripts = (env: TestEnv, folder: string) => {
  const dir = path.join(env.home, 'data/sessions', folder, '.claude/projects/-workspace-group');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : [];
  return files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
};
/** The runner has booted and asked for its first turn. */
const parked = (env: TestEnv, jid: string) => until(() => warmAgent(env, jid)?.inTurn === false, 30_000, 'parked');

describe('with warm agents', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await start({ MAX_CONCURRENT_AGENTS: '3', NANOCLAW_WARM_AGENTS: '2' });
    await addGroup(env, 'club', true);
    await addGroup(env, 'notes', true);
  }, 120_000);
  afterAll(() => env?.close());

  test("the main chat's first message after start-up is answered once, by the sandbox already waiting", async () => {
    await parked(env, 'local:main');
    // While it waits it rehearses a turn, which its session records as stopped before the model.
    let rehearsal = '';
    const recorded = () => /Original prompt: ([0-9a-f-]{36})/.exec(transcripts(env, 'main'))?.[1] ?? '';
    await until(() => !!(rehearsal = recorded()), 30_000, 'the rehearsal');
    expect(env.fake.turnRequests()).toHaveLength(0);
    const agent = env.host.agents.get('local:main');
    await env.send('local:main', 'Q1 in main');
    expect(await env.replyAfter('local:main', 0, /Answer to Q1 in main/)).toBe('Answer to Q1 in main.');
    expect(env.host.agents.get('local:main')).toBe(agent);
    expect(kindsFor('main')).toEqual(['warm']);
    expect(await replies(env, 'local:main')).toEqual(['Answer to Q1 in main.']);
    expect(asked(env, 'Q1 in main')).toHaveLength(1);
    // The model never saw the rehearsal, then or with the question.
    expect(env.fake.turnRequests()).toHaveLength(1);
    expect(env.fake.requests.filter((r) => r.text.includes(rehearsal))).toEqual([]);
  });

  test('chatter in a group starts a warm agent, which answers the message that calls the assistant', async () => {
    await env.send('local:club', 'anyone up for a walk?', 'Kim');
    await parked(env, 'local:club');
    const agent = env.host.agents.get('local:club');
    await env.send('local:club', '@Andy Q2 in club');
    expect(await env.replyAfter('local:club', 0, /Answer to Q2 in club/)).toBe('Answer to Q2 in club.');
    expect(env.host.agents.get('local:club')).toBe(agent);
    expect(kindsFor('club')).toEqual(['warm']);
    // The chatter came with it, as context.
    expect(asked(env, 'Q2 in club')[0].text).toContain('anyone up for a walk?');
    expect(await replies(env, 'local:club')).toEqual(['Answer to Q2 in club.']);
  });

  test('memory edited while an agent waits: the message gets a fresh sandbox that sees it', async () => {
    await env.send('local:notes', 'note to self', 'Kim');
    await parked(env, 'local:notes');
    const agent = env.host.agents.get('local:notes');
    fs.appendFileSync(path.join(env.home, 'groups/notes/CLAUDE.md'), '- The gate is green\n');
    await env.send('local:notes', '@Andy Q3 in notes');
    expect(await env.replyAfter('local:notes', 0, /Answer to Q3 in notes/)).toBe('Answer to Q3 in notes.');
    expect(env.host.agents.get('local:notes')).not.toBe(agent);
    expect(kindsFor('notes')).toEqual(['cold']);
    const [request] = asked(env, 'Q3 in notes');
    expect(request.text).toMatch(/Contents of \/workspace\/group\/CLAUDE\.md[\s\S]*- The gate is green/);
    expect(await replies(env, 'local:notes')).toEqual(['Answer to Q3 in notes.']);
  });
});

describe('at the cap', () => {
  let env: TestEnv;
  beforeAll(async () => {
    delivered.length = 0;
    env = await start({ MAX_CONCURRENT_AGENTS: '2', NANOCLAW_WARM_AGENTS: '2' });
    await addGroup(env, 'club', true);
    await addGroup(env, 'family', false);
  }, 120_000);
  afterAll(() => env?.close());

  test("with every slot a warm agent, a new chat's message takes one's slot at once; nothing is lost or doubled", async () => {
    await parked(env, 'local:main');
    await env.send('local:club', 'chatter', 'Kim');
    await parked(env, 'local:club');
    await env.send('local:family', 'Q4 in family');
    expect(await env.replyAfter('local:family', 0, /Answer to Q4 in family/, 60_000)).toBe('Answer to Q4 in family.');
    // One of the two made way: its chat is answered too when it writes, each message once.
    expect([warmAgent(env, 'local:main'), warmAgent(env, 'local:club')].filter(Boolean)).toHaveLength(1);
    await env.send('local:main', 'Q5 in main');
    await env.send('local:club', '@Andy Q6 in club');
    expect(await env.replyAfter('local:main', 0, /Answer to Q5 in main/, 60_000)).toBe('Answer to Q5 in main.');
    expect(await env.replyAfter('local:club', 0, /Answer to Q6 in club/, 60_000)).toBe('Answer to Q6 in club.');
    expect(await replies(env, 'local:family')).toEqual(['Answer to Q4 in family.']);
    expect(await replies(env, 'local:main')).toEqual(['Answer to Q5 in main.']);
    expect(await replies(env, 'local:club')).toEqual(['Answer to Q6 in club.']);
    for (const q of ['Q4 in family', 'Q5 in main', 'Q6 in club']) expect(asked(env, q)).toHaveLength(1);
  });

  test('a due task in a chat whose agent waits warm gets its own run, and its message arrives', async () => {
    // The agents that answered close; their chats, written in within the hour, get warm agents again.
    for (const a of env.host.agents.values()) a.close();
    await until(() => !!warmAgent(env, 'local:main') && !!warmAgent(env, 'local:club'), 60_000, 'warm again');
    await parked(env, 'local:club');
    const agent = env.host.agents.get('local:club');
    const res = await env.api('/api/tasks', {
      method: 'POST',
      json: {
        group_folder: 'club',
        prompt: 'TASK_RUN tidy up',
        schedule_type: 'once',
        schedule_value: new Date(Date.now() + 5 * 60_000).toISOString(),
      },
    });
    expect(res.status).toBe(201);
    const { task } = (await res.json()) as { task: { id: string; nextRun: string } };
    ahead = Date.parse(task.nextRun) + 1000 - Date.now();
    env.host.scheduler.check();
    expect(await env.replyAfter('local:club', 1, /The task ran/, 60_000)).toBe('The task ran.');
    expect(env.host.agents.get('local:club')).not.toBe(agent);
    const runs = () => env.host.store.tasks.recentRuns(task.id);
    await until(() => runs()[0]?.status === 'success', 30_000, 'the run to be logged');
    expect(runs()).toHaveLength(1);
    expect(asked(env, 'TASK_RUN tidy up')).toHaveLength(1);
    expect(await replies(env, 'local:club')).toEqual(['Answer to Q6 in club.', 'The task ran.']);
  });

  test("the group's sandbox settings changed while its agent waits: the message gets a fresh sandbox", async () => {
    await parked(env, 'local:main');
    const agent = env.host.agents.get('local:main');
    const cold = kindsFor('main').filter((k) => k === 'cold').length;
    const patch = await env.api('/api/groups/local%3Amain', { method: 'PATCH', json: { sandbox: { memoryMb: 1024 } } });
    expect(patch.status).toBe(200);
    await env.send('local:main', 'Q8 in main');
    expect(await env.replyAfter('local:main', 1, /Answer to Q8 in main/, 60_000)).toBe('Answer to Q8 in main.');
    expect(env.host.agents.get('local:main')).not.toBe(agent);
    expect(kindsFor('main').filter((k) => k === 'cold')).toHaveLength(cold + 1);
    expect(asked(env, 'Q8 in main')).toHaveLength(1);
  });

  test('a warm agent whose chat has been quiet for an hour is closed', async () => {
    // Main's agent closes after its answer; its chat had a message within the hour, so a warm one follows.
    env.host.agents.get('local:main')?.close();
    await until(() => !!warmAgent(env, 'local:main'), 30_000, 'main warm again');
    await parked(env, 'local:main');
    ahead += 61 * 60_000;
    await env.send('local:club', 'still there?', 'Kim');
    await until(() => !env.host.agents.has('local:main'), 30_000, 'the quiet chat to lose its warm agent');
    await parked(env, 'local:club');
  });

  test('NANOCLAW_WARM_AGENTS=0 starts no agent: not at start-up, not on chatter', async () => {
    await env.restart({ NANOCLAW_WARM_AGENTS: '0' });
    expect(env.host.agents.size).toBe(0);
    await env.send('local:club', 'more chatter', 'Kim');
    expect(await env.waitRouted((m) => m.text === 'more chatter')).toBe('stored');
    expect(env.host.agents.size).toBe(0);
    expect(env.host.queue.activeCount()).toBe(0);
  });
});

describe('when an agent idles out', () => {
  let env: TestEnv;
  beforeAll(async () => {
    delivered.length = 0;
    ahead = 0;
    env = await start({ MAX_CONCURRENT_AGENTS: '3', NANOCLAW_WARM_AGENTS: '1', IDLE_TIMEOUT: '1500' });
    await addGroup(env, 'club', true);
  }, 120_000);
  afterAll(() => env?.close());

  test('in a chat written in within the hour it is kept waiting, and answers the next message itself', async () => {
    await parked(env, 'local:main');
    const agent = env.host.agents.get('local:main');
    await env.send('local:main', 'Q9 in main');
    expect(await env.replyAfter('local:main', 0, /Answer to Q9 in main/)).toBe('Answer to Q9 in main.');
    // Past IDLE_TIMEOUT it waits on as the chat's warm agent, the same sandbox.
    await until(() => warmAgent(env, 'local:main') === agent, 30_000, 'kept warm');
    await env.send('local:main', 'Q10 in main');
    expect(await env.replyAfter('local:main', 1, /Answer to Q10 in main/)).toBe('Answer to Q10 in main.');
    expect(env.host.agents.get('local:main')).toBe(agent);
    expect(kindsFor('main')).toEqual(['warm', 'warm']);
    expect(await replies(env, 'local:main')).toEqual(['Answer to Q9 in main.', 'Answer to Q10 in main.']);
  });

  test('with NANOCLAW_WARM_AGENTS taken, it is closed', async () => {
    await until(() => warmAgent(env, 'local:main') !== undefined, 30_000, 'main kept warm');
    await env.send('local:club', '@Andy Q11 in club');
    expect(await env.replyAfter('local:club', 0, /Answer to Q11 in club/)).toBe('Answer to Q11 in club.');
    await until(() => !env.host.agents.has('local:club'), 30_000, "club's agent to close");
    expect(warmAgent(env, 'local:main')).toBeDefined();
    expect(asked(env, 'Q11 in club')).toHaveLength(1);
  });
});

describe('a message that comes while the warm agent is still starting', () => {
  let env: TestEnv;
  beforeAll(() => {
    delivered.length = 0;
    ahead = 0;
  });
  afterAll(() => env?.close());

  test('is answered on its own: the model never sees the rehearsal with it', async () => {
    env = await start({ MAX_CONCURRENT_AGENTS: '3', NANOCLAW_WARM_AGENTS: '2' });
    await env.send('local:main', 'Q12 in main');
    expect(await env.replyAfter('local:main', 0, /Answer to Q12 in main/)).toBe('Answer to Q12 in main.');
    expect(kindsFor('main')).toEqual(['warm']);
    const turns = env.fake.turnRequests();
    expect(turns.map(lastUserText).filter((t) => /[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}/.test(t))).toEqual([]);
    expect(turns).toHaveLength(1);
  }, 60_000);
});
