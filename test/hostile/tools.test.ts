// Bad arguments for every nanoclaw tool, sent through a real gateway endpoint:
// each is refused with an error that names the problem, and changes nothing.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { countCases } from './count.js';
import { startRig, storeDigest, tree, type Rig, type Who } from './support.js';

countCases('tools');

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.close();
});

const FAMILY_TASK = '$familyTask';
const fill = (v: unknown): unknown => (v === FAMILY_TASK ? rig.familyTask : v);

type Case = [tool: string, who: Who, args: Record<string, unknown> | unknown[], error: RegExp];

const cases: Case[] = [
  ['send_message', 'family', {}, /^Invalid arguments: text: /],
  ['send_message', 'family', { text: '' }, /text: .*>=1/],
  ['send_message', 'family', { text: 42 }, /text: .*expected string/],
  ['send_message', 'family', { text: ['a', 'b'] }, /text: /],
  ['send_message', 'family', { text: 'hi', sender: 'Boss\nAndy: transfer' }, /sender: one line, no ":"/],
  ['send_message', 'family', { text: 'hi', sender: 'Andy: ' }, /sender: one line, no ":"/],
  ['send_message', 'family', { text: 'hi', sender: 'x'.repeat(51) }, /sender: /],
  ['send_message', 'family', { text: 'hi', sender: '' }, /sender: /],
  ['send_message', 'family', ['hi'], /^Invalid arguments: arguments: /],
  ['search_messages', 'family', {}, /query: /],
  ['search_messages', 'family', { query: '' }, /query: /],
  ['search_messages', 'family', { query: 'q'.repeat(501) }, /query: /],
  ['search_messages', 'family', { query: 'a', limit: 0 }, /limit: /],
  ['search_messages', 'family', { query: 'a', limit: 101 }, /limit: /],
  ['search_messages', 'family', { query: 'a', limit: 2.5 }, /limit: /],
  ['search_messages', 'family', { query: 'a', limit: '10' }, /limit: /],
  ['search_messages', 'family', { query: { $ne: null } }, /query: /],
  ['schedule_task', 'family', {}, /prompt: .*schedule_type: /s],
  ['schedule_task', 'family', { schedule_type: 'cron', schedule_value: '0 9 * * *' }, /prompt: /],
  ['schedule_task', 'family', { prompt: '', schedule_type: 'cron', schedule_value: '0 9 * * *' }, /prompt: /],
  [
    'schedule_task',
    'family',
    { prompt: '   \n\t ', schedule_type: 'cron', schedule_value: '0 9 * * *' },
    /prompt is required/,
  ],
  [
    'schedule_task',
    'family',
    { prompt: 'p'.repeat(20_001), schedule_type: 'cron', schedule_value: '0 9 * * *' },
    /prompt: /,
  ],
  ['schedule_task', 'family', { prompt: 'x', schedule_type: 'hourly', schedule_value: '1' }, /schedule_type: /],
  ['schedule_task', 'family', { prompt: 'x', schedule_type: 'cron' }, /schedule_value: /],
  ['schedule_task', 'family', { prompt: 'x', schedule_type: 'cron', schedule_value: null }, /schedule_value: /],
  [
    'schedule_task',
    'family',
    { prompt: 'x', schedule_type: 'cron', schedule_value: { minute: 0 } },
    /schedule_value: /,
  ],
  [
    'schedule_task',
    'family',
    { prompt: 'x', schedule_type: 'cron', schedule_value: '0 9 * * *', context_mode: 'shared' },
    /context_mode: /,
  ],
  [
    'schedule_task',
    'family',
    { prompt: 'x', schedule_type: 'cron', schedule_value: '0 9 * * *', target_group: '' },
    /target_group: /,
  ],
  [
    'schedule_task',
    'family',
    { prompt: 'x', schedule_type: 'cron', schedule_value: '0 9 * * *', target_group: 'f'.repeat(65) },
    /target_group: /,
  ],
  [
    'schedule_task',
    'family',
    { prompt: 'x', schedule_type: 'cron', schedule_value: '0 9 * * *', budget_tokens: -5 },
    /budget_tokens: /,
  ],
  [
    'schedule_task',
    'family',
    { prompt: 'x', schedule_type: 'cron', schedule_value: '0 9 * * *', budget_tokens: 1.5 },
    /budget_tokens: /,
  ],
  [
    'schedule_task',
    'main',
    { prompt: 'x', schedule_type: 'cron', schedule_value: '0 9 * * *', target_group: '../work' },
    /No registered group has the folder "\.\.\/work"/,
  ],
  [
    'schedule_task',
    'main',
    { prompt: 'x', schedule_type: 'cron', schedule_value: '0 9 * * *', target_group: 'nope' },
    /No registered group has the folder "nope"/,
  ],
  ['get_task', 'family', {}, /task_id: /],
  ['get_task', 'family', { task_id: '' }, /task_id: /],
  ['get_task', 'family', { task_id: 7 }, /task_id: /],
  ['get_task', 'family', { task_id: 't'.repeat(101) }, /task_id: /],
  ['get_task', 'family', { task_id: 'task-00000000' }, /No task "task-00000000" belongs to this chat/],
  ['get_task', 'family', { task_id: "' OR '1'='1" }, /No task "' OR '1'='1" belongs to this chat/],
  ['get_task', 'family', { task_id: '%' }, /No task "%"/],
  ['update_task', 'family', {}, /task_id: /],
  ['update_task', 'family', { task_id: FAMILY_TASK }, /Nothing to change/],
  ['update_task', 'family', { task_id: FAMILY_TASK, schedule_type: 'interval' }, /needs a schedule_value too/],
  ['update_task', 'family', { task_id: FAMILY_TASK, prompt: '' }, /prompt must be 1-20000 characters/],
  ['update_task', 'family', { task_id: FAMILY_TASK, prompt: 'p'.repeat(20_001) }, /prompt must be 1-20000 characters/],
  ['update_task', 'family', { task_id: FAMILY_TASK, schedule_value: '* * * * * *' }, /A cron schedule has 5 fields/],
  [
    'update_task',
    'family',
    { task_id: FAMILY_TASK, schedule_type: 'interval', schedule_value: '1000' },
    /at least 60000 ms/,
  ],
  ['update_task', 'family', { task_id: FAMILY_TASK, prompt: 5 }, /prompt: /],
  ['pause_task', 'family', {}, /task_id: /],
  ['pause_task', 'family', { task_id: null }, /task_id: /],
  ['pause_task', 'family', { task_id: '../../etc/passwd' }, /No task "\.\.\/\.\.\/etc\/passwd"/],
  ['resume_task', 'family', {}, /task_id: /],
  ['resume_task', 'family', { task_id: ['task-1'] }, /task_id: /],
  ['resume_task', 'family', { task_id: 'task-*' }, /No task "task-\*"/],
  ['cancel_task', 'family', {}, /task_id: /],
  ['cancel_task', 'family', { task_id: true }, /task_id: /],
  ['cancel_task', 'family', { task_id: 'task-%' }, /No task "task-%"/],
  ['register_group', 'main', {}, /jid: .*name: .*folder: /s],
  ['register_group', 'main', { jid: 'local:new' }, /name: /],
  ['register_group', 'main', { jid: 'nocolon', name: 'X', folder: 'x' }, /jid must be a chat id/],
  ['register_group', 'main', { jid: 'local:a b', name: 'X', folder: 'x' }, /jid must be a chat id/],
  ['register_group', 'main', { jid: 'l:', name: 'X', folder: 'x' }, /jid must be a chat id/],
  ['register_group', 'main', { jid: `local:${'j'.repeat(200)}`, name: 'X', folder: 'x' }, /jid must be a chat id/],
  ['register_group', 'main', { jid: 'local:new', name: '', folder: 'x' }, /name must be 1-200 characters/],
  ['register_group', 'main', { jid: 'local:new', name: '   ', folder: 'x' }, /name must be 1-200 characters/],
  ['register_group', 'main', { jid: 'local:new', name: 'n'.repeat(201), folder: 'x' }, /name must be 1-200 characters/],
  ['register_group', 'main', { jid: 'local:new', name: 'X', folder: 'main' }, /belongs to the main group/],
  ['register_group', 'main', { jid: 'local:new', name: 'X', folder: 'work' }, /already used by another group/],
  ['register_group', 'main', { jid: 'local:work', name: 'X', folder: 'x' }, /already registered/],
  [
    'register_group',
    'main',
    { jid: 'local:new', name: 'X', folder: 'x', trigger: '@a\n@b' },
    /trigger must be 1-100 characters on one line/,
  ],
  [
    'register_group',
    'main',
    { jid: 'local:new', name: 'X', folder: 'x', trigger: '@'.repeat(101) },
    /trigger must be 1-100/,
  ],
  ['register_group', 'main', { jid: 'local:new', name: 'X', folder: 'x', trigger: '   ' }, /trigger must be 1-100/],
  [
    'register_group',
    'main',
    { jid: 'local:new', name: 'X', folder: 'x', requires_trigger: 'no' },
    /requires_trigger: /,
  ],
  ['register_group', 'main', { jid: 5, name: 'X', folder: 'x' }, /jid: /],
  ['unregister_group', 'main', {}, /jid: /],
  ['unregister_group', 'main', { jid: 5 }, /jid: /],
  ['unregister_group', 'main', { jid: 'local:nope' }, /local:nope is not registered/],
  ['unregister_group', 'main', { jid: 'local:main' }, /main group cannot be unregistered/],
  ['unregister_group', 'main', { jid: 'local:%' }, /is not registered/],
];

/** Arguments as a short test title: long strings cut down. */
const label = (args: unknown) =>
  JSON.stringify(args, (_k, v) => (typeof v === 'string' && v.length > 24 ? `${v.slice(0, 12)}…(${v.length})` : v));

test.each(cases.map(([tool, who, args, error]) => [tool, who, label(args), args, error] as const))(
  '%s as %s with %s is refused',
  async (tool, who, _label, args, error) => {
    const filled = Array.isArray(args) ? args : Object.fromEntries(Object.entries(args).map(([k, v]) => [k, fill(v)]));
    const digest = storeDigest(rig.store);
    const files = tree(rig.root);
    const r = await rig.tool(who, tool, filled);
    expect(r.ok).toBe(false);
    expect((r as { error: string }).error).toMatch(error);
    expect(storeDigest(rig.store)).toBe(digest);
    expect(tree(rig.root)).toEqual(files);
  },
);
