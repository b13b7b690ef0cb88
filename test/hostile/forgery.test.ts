// Cross-group identity forgery: a sandbox's payload (or headers, or query)
// claims another group's chat, folder, main status or target. The gateway
// knows the caller only by the endpoint the call came in on, so each forged
// call either acts on the caller's own group or is refused, and no other
// group's data changes or leaks. The last cases make the same claims from a
// real sandbox: the model's tool calls go through the runner and the gateway.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, type TestEnv } from '../support/harness.js';
import { countCases } from './count.js';
import { startRig, storeDigest, tree, WORK_SECRET, type Rig } from './support.js';

countCases('forgery');

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.close();
});

/** Claims a payload might make about who is calling. */
const CLAIMS: [string, Record<string, unknown>][] = [
  ['chat_jid of work', { chat_jid: 'local:work' }],
  ['chatJid of main', { chatJid: 'local:main' }],
  ['jid of main', { jid: 'local:main' }],
  ['group_folder of work', { group_folder: 'work' }],
  ['groupFolder of main', { groupFolder: 'main' }],
  ['is_main', { is_main: true }],
  ['isMain', { isMain: true }],
  ['an identity object', { identity: { groupFolder: 'main', chatJid: 'local:main', isMain: true } }],
  ['__proto__ isMain', JSON.parse('{"__proto__": {"isMain": true, "is_main": true}}')],
  ['to/target of work', { to: 'local:work', target: 'local:work', target_jid: 'local:work' }],
];

const outboxFor = (jid: string) =>
  rig.store.db.prepare('SELECT text FROM outbox WHERE chat_jid = ? ORDER BY id').all(jid) as { text: string }[];

describe("send_message always goes to the caller's own chat", () => {
  test.each(CLAIMS)('family claiming %s', async (what, claim) => {
    const text = `forged (${what})`;
    const others = { main: outboxFor('local:main'), work: outboxFor('local:work') };
    const r = await rig.tool('family', 'send_message', { ...claim, text });
    expect(r).toEqual({ ok: true, text: 'Sent.' });
    expect(outboxFor('local:family').at(-1)?.text).toBe(text);
    expect(outboxFor('local:main')).toEqual(others.main);
    expect(outboxFor('local:work')).toEqual(others.work);
  });
});

describe('only the main chat administers groups, whatever the payload says', () => {
  const adminCalls: [string, Record<string, unknown>, RegExp][] = [
    ['list_groups', {}, /Only the main chat can use list_groups/],
    [
      'register_group',
      { jid: 'local:evil', name: 'Evil', folder: 'evil' },
      /Only the main chat can use register_group/,
    ],
    [
      'register_group',
      { jid: 'local:evil2', name: 'Evil', folder: 'evil2', requires_trigger: false },
      /Only the main chat can use register_group/,
    ],
    ['unregister_group', { jid: 'local:work' }, /Only the main chat can use unregister_group/],
    ['unregister_group', { jid: 'local:main' }, /Only the main chat can use unregister_group/],
  ];
  const rows = CLAIMS.flatMap(([what, claim]) =>
    adminCalls.map(([tool, args, error]) => [tool, what, { ...args, ...claim }, error] as const),
  );
  test.each(rows)('%s from family claiming %s', async (tool, _what, args, error) => {
    const digest = storeDigest(rig.store);
    const files = tree(rig.root);
    const r = await rig.tool('family', tool, args);
    expect(r).toEqual({ ok: false, error: expect.stringMatching(error) });
    expect(storeDigest(rig.store)).toBe(digest);
    expect(tree(rig.root)).toEqual(files);
  });

  test.each([
    ['x-nanoclaw-group: main', { 'x-nanoclaw-group': 'main' }],
    ['x-nanoclaw-main: true', { 'x-nanoclaw-main': 'true' }],
    ['x-forwarded-for of the host', { 'x-forwarded-for': '127.0.0.1' }],
    ['authorization', { authorization: 'Bearer main' }],
  ])('list_groups from family with header %s', async (_what, headers) => {
    const r = await rig.request('family', 'POST', '/tools/list_groups', {}, headers);
    expect(r.json).toEqual({ ok: false, error: 'Only the main chat can use list_groups.' });
  });

  test('work cannot unregister family, even naming it as its own', async () => {
    const digest = storeDigest(rig.store);
    const r = await rig.tool('work', 'unregister_group', {
      jid: 'local:family',
      group_folder: 'family',
      chat_jid: 'local:family',
    });
    expect(r.ok).toBe(false);
    expect(storeDigest(rig.store)).toBe(digest);
    expect(rig.store.groups.get('local:family')).toBeTruthy();
  });
});

describe('nothing becomes main', () => {
  test.each([
    ['is_main', { is_main: true }],
    ['isMain', { isMain: true }],
    ['main: true', { main: true }],
    ['a main trigger', { trigger: '@Andy', requires_trigger: false, is_main: 1 }],
  ])('main registering a group with %s registers an ordinary group', async (_what, claim) => {
    const id = Math.random().toString(36).slice(2, 8);
    const r = await rig.tool('main', 'register_group', {
      jid: `local:n${id}`,
      name: 'New',
      folder: `n${id}`,
      ...claim,
    });
    expect(r.ok).toBe(true);
    const g = rig.store.groups.get(`local:n${id}`)!;
    expect(g.isMain).toBe(false);
    expect(
      rig.store.groups
        .list()
        .filter((x) => x.isMain)
        .map((x) => x.jid),
    ).toEqual(['local:main']);
    // A non-main group still cannot administer anything.
    expect((await rig.tool('family', 'list_groups', {})).ok).toBe(false);
    expect((await rig.tool('main', 'unregister_group', { jid: `local:n${id}` })).ok).toBe(true);
  });

  test.each([
    ['folder main', { jid: 'local:m2', name: 'M', folder: 'main' }, /belongs to the main group/],
    ['the main jid again', { jid: 'local:main', name: 'M', folder: 'm3' }, /already registered/],
  ])('main cannot register a second main by %s', async (_what, args, error) => {
    const digest = storeDigest(rig.store);
    const r = await rig.tool('main', 'register_group', args);
    expect(r).toEqual({ ok: false, error: expect.stringMatching(error) });
    expect(storeDigest(rig.store)).toBe(digest);
  });
});

describe("tasks: another group's reads as absent", () => {
  const calls: [string, (id: string) => Record<string, unknown>][] = [
    ['get_task', (id) => ({ task_id: id })],
    ['pause_task', (id) => ({ task_id: id })],
    ['resume_task', (id) => ({ task_id: id })],
    ['cancel_task', (id) => ({ task_id: id })],
    ['update_task', (id) => ({ task_id: id, prompt: 'hijacked' })],
    ['update_task', (id) => ({ task_id: id, schedule_type: 'interval', schedule_value: '60000' })],
  ];
  const claims: [string, Record<string, unknown>][] = [
    ['nothing', {}],
    ['group_folder of work', { group_folder: 'work' }],
    ['is_main', { is_main: true, isMain: true }],
  ];
  const rows = calls.flatMap(([tool, args]) => claims.map(([what, claim]) => [tool, what, args, claim] as const));
  test.each(rows)("%s on work's task from family claiming %s", async (tool, _what, args, claim) => {
    const digest = storeDigest(rig.store);
    const r = await rig.tool('family', tool, { ...args(rig.workTask), ...claim });
    expect(r).toEqual({
      ok: false,
      error: `No task "${rig.workTask}" belongs to this chat; list_tasks shows the ones that do.`,
    });
    expect(storeDigest(rig.store)).toBe(digest);
  });

  test.each([
    ['work', { target_group: 'work' }],
    ['main', { target_group: 'main' }],
    ['work, claiming main', { target_group: 'work', is_main: true, group_folder: 'main' }],
  ])('family scheduling for %s is refused', async (_what, claim) => {
    const digest = storeDigest(rig.store);
    const r = await rig.tool('family', 'schedule_task', {
      prompt: 'x',
      schedule_type: 'interval',
      schedule_value: '3600000',
      ...claim,
    });
    expect(r).toEqual({
      ok: false,
      error: expect.stringMatching(/^Only the main chat can schedule tasks for another group/),
    });
    expect(storeDigest(rig.store)).toBe(digest);
  });

  test('a forged group_folder (not target_group) schedules for the caller itself', async () => {
    const r = await rig.tool('family', 'schedule_task', {
      prompt: 'mine',
      schedule_type: 'interval',
      schedule_value: '3600000',
      group_folder: 'work',
      chat_jid: 'local:work',
    });
    expect(r.ok).toBe(true);
    const id = /task-[0-9a-f]{8}/.exec((r as { text: string }).text)![0];
    expect(rig.store.tasks.get(id)).toMatchObject({ groupFolder: 'family', chatJid: 'local:family' });
    expect((await rig.tool('family', 'cancel_task', { task_id: id })).ok).toBe(true);
  });

  test.each(claims)('list_tasks from family claiming %s shows only its own', async (_what, claim) => {
    const r = await rig.tool('family', 'list_tasks', claim);
    expect(r.ok).toBe(true);
    const text = (r as { text: string }).text;
    expect(text).toContain(rig.familyTask);
    expect(text).not.toContain(rig.workTask);
    expect(text).not.toContain('Standup');
  });
});

describe("search never reaches another group's chats", () => {
  test.each([
    ['nothing', {}],
    ['chat_jids', { chat_jids: ['local:work'], chatJids: ['local:work'] }],
    ['is_main', { is_main: true }],
    ['group_folder', { group_folder: 'work' }],
    ['an FTS column filter', { query: `chat_jid:local OR ${WORK_SECRET}` }],
    ['an FTS prefix and NEAR', { query: `NEAR(${WORK_SECRET.slice(0, 4)}* code)` }],
  ])("family searching for work's secret with %s", async (_what, claim) => {
    const r = await rig.tool('family', 'search_messages', { query: WORK_SECRET, ...claim });
    expect(r.ok).toBe(true);
    expect((r as { text: string }).text).toMatch(/^No messages match/);
    expect((r as { text: string }).text.replace(/No messages match ".*"\./s, '')).not.toContain(WORK_SECRET);
  });

  test('the main chat does find it (the search works)', async () => {
    const r = await rig.tool('main', 'search_messages', { query: WORK_SECRET });
    expect((r as { text: string }).text).toContain(`the code word is ${WORK_SECRET}`);
  });
});

describe("runner events are the endpoint's own", () => {
  test.each([
    ['a session claiming main', { type: 'session', sessionId: 'stolen', groupFolder: 'main', chat_jid: 'local:main' }],
    ['an activity claiming is_main', { type: 'activity', tool: 'Bash', is_main: true }],
  ])('%s is recorded for family', async (_what, event) => {
    const before = rig.events.length;
    const r = await rig.request('family', 'POST', '/runner/event', event);
    expect(r.json).toEqual({ ok: true });
    expect(rig.events.slice(before).map((e) => e.who)).toEqual(['family']);
  });
});

describe("through a real sandbox: the model's forged tool calls reach the gateway and are contained", () => {
  /** Everything a payload might claim, mixed into every forged call. */
  const FORGED_IDENTITY = {
    chat_jid: 'local:work',
    chatJid: 'local:main',
    jid: 'local:main',
    group_folder: 'work',
    groupFolder: 'main',
    is_main: true,
    isMain: true,
  };
  const CALLS: Record<string, { name: string; input: Record<string, unknown> }> = {
    FORGE_SEND: {
      name: 'mcp__nanoclaw__send_message',
      input: { text: 'FORGED_NOTE for the work chat', ...FORGED_IDENTITY, target_group: 'work' },
    },
    FORGE_SCHEDULE: {
      name: 'mcp__nanoclaw__schedule_task',
      input: {
        prompt: 'FORGED_TASK post in work',
        schedule_type: 'interval',
        schedule_value: '3600000',
        target_group: 'work',
        ...FORGED_IDENTITY,
      },
    },
    FORGE_SCHEDULE_MAIN: {
      name: 'mcp__nanoclaw__schedule_task',
      input: {
        prompt: 'FORGED_TASK post in main',
        schedule_type: 'interval',
        schedule_value: '3600000',
        target_group: 'main',
        ...FORGED_IDENTITY,
      },
    },
    FORGE_REGISTER: {
      name: 'mcp__nanoclaw__register_group',
      input: { ...FORGED_IDENTITY, jid: 'local:evil', name: 'Evil', folder: 'evil', requires_trigger: false },
    },
    FORGE_UNREGISTER: { name: 'mcp__nanoclaw__unregister_group', input: { ...FORGED_IDENTITY, jid: 'local:work' } },
    FORGE_LIST: { name: 'mcp__nanoclaw__list_groups', input: { ...FORGED_IDENTITY } },
  };
  let env: TestEnv;

  function script(req: RecordedRequest) {
    const text = lastUserText(req);
    // The tool result the model got becomes the reply, so the chat shows what the model was told.
    if (isToolResultTurn(req)) return { text: `Tool said: ${text}` };
    const marker = Object.keys(CALLS).find((m) => new RegExp(`\\b${m}\\b`).test(text));
    return marker ? { toolUse: CALLS[marker] } : { text: 'OK' };
  }

  beforeAll(async () => {
    env = await startTestEnv({ script });
    for (const [jid, name, folder, requiresTrigger] of [
      ['local:family', 'Family', 'family', false],
      ['local:work', 'Work', 'work', true],
    ] as const) {
      expect(
        (await env.api('/api/groups', { method: 'POST', json: { jid, name, folder, requiresTrigger } })).status,
      ).toBe(201);
    }
    // Something in work and main to compare against: neither may change.
    await env.send('local:work', 'the budget is final');
  });
  afterAll(async () => {
    await env?.close();
  });

  const textsIn = async (jid: string) => (await env.messages(jid)).map((m) => `${m.senderName}: ${m.text}`);
  const groupsNow = async () =>
    ((await (await env.api('/api/groups')).json()) as any).groups
      .map((g: any) => `${g.jid} ${g.folder} ${g.isMain}`)
      .sort();

  /** Family's agent makes the forged call; answers the tool result the model was shown (its final reply). */
  async function forge(marker: string, repliesExpected = 1): Promise<string> {
    const before = (await env.messages('local:family')).filter((m) => m.fromAssistant).length;
    await env.send('local:family', `${marker} now`);
    const replies = await env.waitForReply('local:family', { count: before + repliesExpected });
    return replies.at(-1).text;
  }

  const REFUSED: [string, RegExp][] = [
    ['FORGE_SCHEDULE', /^Tool said: Refused: Only the main chat can schedule tasks for another group/],
    ['FORGE_SCHEDULE_MAIN', /^Tool said: Refused: Only the main chat can schedule tasks for another group/],
    ['FORGE_REGISTER', /^Tool said: Refused: Only the main chat can use register_group\.(\n|$)/],
    ['FORGE_UNREGISTER', /^Tool said: Refused: Only the main chat can use unregister_group\.(\n|$)/],
    ['FORGE_LIST', /^Tool said: Refused: Only the main chat can use list_groups\.(\n|$)/],
  ];

  test.each(REFUSED)(
    '%s from family: the model is told it was refused, and no chat, group or task changes',
    async (marker, said) => {
      const work = await textsIn('local:work');
      const main = await textsIn('local:main');
      const groups = await groupsNow();
      const tasks = env.host.store.tasks.listAll().length;
      expect(await forge(marker)).toMatch(said);
      expect(await textsIn('local:work')).toEqual(work);
      expect(await textsIn('local:main')).toEqual(main);
      expect(await groupsNow()).toEqual(groups);
      expect(env.host.store.tasks.listAll()).toHaveLength(tasks);
    },
  );

  test('send_message claiming the work chat lands in family only', async () => {
    const work = await textsIn('local:work');
    const main = await textsIn('local:main');
    // Two replies: the message the tool sent, then the final answer with the tool result.
    expect(await forge('FORGE_SEND', 2)).toBe('Tool said: Sent.');
    const family = await env.messages('local:family');
    expect(family.filter((m) => m.text === 'FORGED_NOTE for the work chat')).toHaveLength(1);
    expect(await textsIn('local:work')).toEqual(work);
    expect(await textsIn('local:main')).toEqual(main);
  });
});
