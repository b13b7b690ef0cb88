// Authorization of every nanoclaw tool, for the main chat, a non-main chat
// acting on its own things, and a non-main chat reaching for another group's.
// The identity is what the gateway derives from the endpoint a call arrived on.
import fs from 'node:fs';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import type { Identity } from '../../../src/core/gateway/gateway.js';
import { ensureHome, homePaths } from '../../../src/core/config/home.js';
import { openDatabase } from '../../../src/core/store/db.js';
import { createStore } from '../../../src/host.js';
import type { Store } from '../../../src/core/store/index.js';
import { createGroupTools } from '../../../src/plugins/groups/tools.js';
import { createTaskTools } from '../../../src/plugins/scheduler/tools.js';
import { createSearchTools } from '../../../src/plugins/search/index.js';
import { createToolHandler } from '../../../src/core/tools/tools.js';
import { makeHome } from '../../support/harness.js';
import { localGroup } from '../../support/groups.js';

const TZ = 'Europe/Berlin';
const home = makeHome('nanoclaw-authz-');
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));
const paths = homePaths(home);
ensureHome(paths, 'Andy');

const MAIN: Identity = { groupFolder: 'main', chatJid: 'local:main', isMain: true, taskId: null };
const FAMILY: Identity = { groupFolder: 'family', chatJid: 'local:family', isMain: false, taskId: null };

const group = (folder: string, isMain = false) => localGroup(folder, isMain);

let store: Store;
let call: (who: Identity, name: string, args?: unknown) => Promise<{ ok: boolean; text?: string; error?: string }>;
let workTask: string;
let familyTask: string;

async function scheduled(who: Identity, args: Record<string, unknown>): Promise<string> {
  const r = await call(who, 'schedule_task', {
    prompt: 'Say hi',
    schedule_type: 'cron',
    schedule_value: '0 9 * * *',
    ...args,
  });
  if (!r.ok) throw new Error(r.error);
  return /task-[0-9a-f]{8}/.exec(r.text!)![0];
}

beforeEach(async () => {
  store = createStore(openDatabase(':memory:'));
  for (const g of [group('main', true), group('family'), group('work')]) store.groups.insert(g);
  const tools = [
    ...createTaskTools({ store, timezone: TZ, onChange: () => {} }),
    ...createSearchTools({ store, timezone: TZ }),
    ...createGroupTools({ store, paths, assistantName: 'Andy' }),
  ];
  const handle = createToolHandler({ store, paths, assistantName: 'Andy', tools });
  call = (who, name, args = {}) => handle(who, name, args) as any;
  workTask = await scheduled(MAIN, { target_group: 'work', prompt: 'Send the standup reminder' });
  familyTask = await scheduled(FAMILY, { prompt: 'Plan dinner' });
});

describe('schedule_task', () => {
  test('a chat schedules for itself, with the id and the next three times in local time', async () => {
    const r = await call(FAMILY, 'schedule_task', {
      prompt: 'Water the plants',
      schedule_type: 'cron',
      schedule_value: '30 7 * * 1',
    });
    expect(r.ok).toBe(true);
    expect(r.text).toMatch(/^Scheduled task task-[0-9a-f]{8} for this chat: cron "30 7 \* \* 1"/);
    expect(r.text).toMatch(
      /Next runs \(Europe\/Berlin\): Mon \d+ \w+ \d{4}, 07:30 CES?T; Mon .*07:30 CES?T; Mon .*07:30 CES?T$/,
    );
  });

  test('non-main cannot use target_group for another group; nothing is created', async () => {
    const before = store.tasks.listAll().length;
    const r = await call(FAMILY, 'schedule_task', {
      prompt: 'x',
      schedule_type: 'interval',
      schedule_value: '3600000',
      target_group: 'work',
    });
    expect(r).toEqual({
      ok: false,
      error: expect.stringMatching(/Only the main chat can schedule tasks for another group/),
    });
    expect(store.tasks.listAll()).toHaveLength(before);
  });

  test('main schedules for another group by folder; an unknown folder is refused', async () => {
    const t = store.tasks.get(workTask)!;
    expect(t).toMatchObject({ groupFolder: 'work', chatJid: 'local:work' });
    const r = await call(MAIN, 'schedule_task', {
      prompt: 'x',
      schedule_type: 'interval',
      schedule_value: '3600000',
      target_group: 'nope',
    });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/No registered group has the folder "nope"/) });
  });

  test('a once time in the past is refused with the reason', async () => {
    const r = await call(FAMILY, 'schedule_task', {
      prompt: 'x',
      schedule_type: 'once',
      schedule_value: '2020-01-01T09:00:00',
    });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/has already passed; it is now/) });
  });
});

describe('list_tasks', () => {
  test('non-main sees only its own tasks', async () => {
    const r = await call(FAMILY, 'list_tasks');
    expect(r.text).toContain(familyTask);
    expect(r.text).not.toContain(workTask);
  });
  test("main sees every group's tasks", async () => {
    const r = await call(MAIN, 'list_tasks');
    expect(r.text).toContain(familyTask);
    expect(r.text).toContain(`${workTask} [work]`);
  });
});

describe('acting on a task by id', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['get_task', {}],
    ['update_task', { prompt: 'Hijacked' }],
    ['pause_task', {}],
    ['resume_task', {}],
    ['cancel_task', {}],
  ];

  for (const [name, extra] of cases) {
    test(`${name}: another group's task id reads as absent to non-main, and nothing changes`, async () => {
      const before = store.tasks.get(workTask);
      const r = await call(FAMILY, name, { task_id: workTask, ...extra });
      expect(r).toEqual({
        ok: false,
        error: `No task "${workTask}" belongs to this chat; list_tasks shows the ones that do.`,
      });
      expect(store.tasks.get(workTask)).toEqual(before);
    });

    test(`${name}: allowed on the chat's own task, and for main on any group's`, async () => {
      if (name === 'resume_task') {
        await call(FAMILY, 'pause_task', { task_id: familyTask });
        await call(MAIN, 'pause_task', { task_id: workTask });
      }
      const own = await call(FAMILY, name, { task_id: familyTask, ...extra });
      const fromMain = await call(MAIN, name, { task_id: workTask, ...extra });
      expect(own.ok).toBe(true);
      expect(fromMain.ok).toBe(true);
    });
  }

  test('get_task shows the schedule, status and recent runs', async () => {
    const run = store.tasks.startRun(familyTask, '2025-01-06T08:00:00.000Z');
    store.tasks.finishRun(run, {
      durationMs: 4000,
      status: 'success',
      result: 'Pasta tonight.',
      inputTokens: 300,
      outputTokens: 40,
    });
    const r = await call(FAMILY, 'get_task', { task_id: familyTask });
    expect(r.text).toContain('Status: active');
    expect(r.text).toContain('Schedule: cron "0 9 * * *" (Europe/Berlin); context: isolated');
    expect(r.text).toMatch(/- Mon 6 Jan 2025, 09:00 CET success, 4 s, 340 tokens: Pasta tonight\./);
  });

  test('pause, resume, update and cancel do what they say', async () => {
    await call(FAMILY, 'pause_task', { task_id: familyTask });
    expect(store.tasks.get(familyTask)).toMatchObject({ status: 'paused', statusReason: 'Paused on request.' });
    await call(FAMILY, 'resume_task', { task_id: familyTask });
    expect(store.tasks.get(familyTask)).toMatchObject({ status: 'active', statusReason: null });
    const u = await call(FAMILY, 'update_task', {
      task_id: familyTask,
      schedule_type: 'interval',
      schedule_value: '7200000',
    });
    expect(u.text).toMatch(/every 2 hours/);
    expect(store.tasks.get(familyTask)).toMatchObject({ scheduleType: 'interval', scheduleValue: '7200000' });
    const bad = await call(FAMILY, 'update_task', { task_id: familyTask, schedule_type: 'cron' });
    expect(bad.ok).toBe(false);
    await call(FAMILY, 'cancel_task', { task_id: familyTask });
    expect(store.tasks.get(familyTask)).toBeUndefined();
  });
});

describe('send_message', () => {
  test("always goes to the caller's own chat, whatever the arguments claim", async () => {
    const r = await call(FAMILY, 'send_message', { text: 'Hello', chat_jid: 'local:work', jid: 'local:main' });
    expect(r.ok).toBe(true);
    expect(store.outbox.pending().map((o) => o.chatJid)).toEqual(['local:family']);
  });
  test('a sub-agent speaks under its persona', async () => {
    await call(FAMILY, 'send_message', { text: 'Found three flights.', sender: 'Researcher' });
    expect(store.outbox.pending()).toMatchObject([
      { chatJid: 'local:family', persona: 'Researcher', text: 'Found three flights.' },
    ]);
  });
});

describe('search_messages', () => {
  beforeEach(() => {
    const msg = (chat: string, id: string, text: string) =>
      store.messages.insert(
        {
          id,
          chatJid: chat,
          sender: 's',
          senderName: 'Sarah',
          text,
          timestamp: '2025-01-02T10:00:00.000Z',
          fromMe: false,
          fromAssistant: false,
        },
        'local',
      );
    msg('local:family', 'f1', 'The flights to Lisbon leave at 7');
    msg('local:work', 'w1', 'Budget flights for the offsite');
  });
  test("non-main finds its own old message and never another group's", async () => {
    const r = await call(FAMILY, 'search_messages', { query: 'flights' });
    expect(r.text).toContain('The flights to Lisbon leave at 7');
    expect(r.text).not.toContain('offsite');
  });
  test('main searches every chat', async () => {
    const r = await call(MAIN, 'search_messages', { query: 'flights' });
    expect(r.text).toContain('Lisbon');
    expect(r.text).toContain('offsite');
  });
});

describe('group administration', () => {
  test('main lists, registers and unregisters groups', async () => {
    expect((await call(MAIN, 'list_groups')).text).toMatch(
      /Registered:[\s\S]*Family \(jid local:family, folder family/,
    );
    const reg = await call(MAIN, 'register_group', { jid: 'local:club', name: 'Book Club', folder: 'club' });
    expect(reg.ok).toBe(true);
    expect(store.groups.get('local:club')).toMatchObject({ name: 'Book Club', folder: 'club', isMain: false });
    const unreg = await call(MAIN, 'unregister_group', { jid: 'local:club' });
    expect(unreg.ok).toBe(true);
    expect(store.groups.get('local:club')).toBeUndefined();
  });

  test('non-main is refused every administration tool, and nothing changes', async () => {
    expect(await call(FAMILY, 'list_groups')).toEqual({ ok: false, error: 'Only the main chat can use list_groups.' });
    expect(await call(FAMILY, 'register_group', { jid: 'local:club', name: 'Club', folder: 'club' })).toEqual({
      ok: false,
      error: 'Only the main chat can use register_group.',
    });
    expect(await call(FAMILY, 'unregister_group', { jid: 'local:work' })).toEqual({
      ok: false,
      error: 'Only the main chat can use unregister_group.',
    });
    expect(store.groups.get('local:club')).toBeUndefined();
    expect(store.groups.get('local:work')).toBeDefined();
  });

  test('no call can make a group main', async () => {
    await call(MAIN, 'register_group', {
      jid: 'local:sneaky',
      name: 'Sneaky',
      folder: 'sneaky',
      is_main: true,
      isMain: true,
    });
    expect(store.groups.get('local:sneaky')?.isMain).toBe(false);
    expect((await call(MAIN, 'register_group', { jid: 'local:m2', name: 'M2', folder: 'main' })).ok).toBe(false);
  });
});
