// Scheduled tasks end to end: real host, real bwrap sandbox, real Agent SDK,
// fake model. Time is driven through the host's injectable clock; the test
// moves it past a task's next run and asks the scheduler to look.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

const clock = { now: Date.now() };
let env: TestEnv;
let hangRestartRun = true;

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: `Tool said: ${text}` };
  if (text.includes('SCHEDULE_STANDUP')) {
    return {
      toolUse: {
        name: 'mcp__nanoclaw__schedule_task',
        input: { prompt: 'STANDUP_RUN: remind everyone', schedule_type: 'cron', schedule_value: '55 8 * * 1-5' },
      },
    };
  }
  if (text.includes('STANDUP_RUN')) return { text: 'Standup in 5 minutes!' };
  if (text.includes('MY_SECRET')) return { text: 'Noted.' };
  if (text.includes('GROUPCTX') || text.includes('ISOCTX')) return { text: 'Checked.' };
  if (text.includes('QUIET_RUN')) return { text: '<internal>Nothing new.</internal>' };
  if (text.includes('RESTART_RUN')) return hangRestartRun ? { hang: true as const } : { text: 'Survived the restart.' };
  if (text.includes('BIG_RUN'))
    return { text: 'A very long report', usage: { input_tokens: 5000, output_tokens: 900 } };
  const cancel = /CANCEL_OTHER (task-[0-9a-f]{8})/.exec(text);
  if (cancel) return { toolUse: { name: 'mcp__nanoclaw__cancel_task', input: { task_id: cancel[1] } } };
  if (text.includes('TARGET_MAIN'))
    return {
      toolUse: {
        name: 'mcp__nanoclaw__schedule_task',
        input: { prompt: 'x', schedule_type: 'interval', schedule_value: '3600000', target_group: 'main' },
      },
    };
  return { text: 'OK' };
}

/** Moves the clock to just after the task's next run and lets the scheduler look. */
function fire(taskId: string): void {
  const t = env.host.store.tasks.get(taskId)!;
  clock.now = Math.max(clock.now, Date.parse(t.nextRun!) + 1000);
  env.host.scheduler.check();
}

async function createTask(body: Record<string, unknown>): Promise<any> {
  const res = await env.api('/api/tasks', { method: 'POST', json: body });
  expect(res.status).toBe(201);
  return ((await res.json()) as any).task;
}

const inMinutes = (n: number) => new Date(clock.now + n * 60_000).toISOString();
const replyTexts = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => m.text as string);
const repliesIn = async (jid: string) => replyTexts(await env.messages(jid));

beforeAll(async () => {
  env = await startTestEnv({ script, host: { now: () => clock.now } });
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:family', name: 'Family', folder: 'family', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await env?.close();
});

test("scheduled through the tool from a chat: the answer has the id and next times, and the task's message arrives in that chat", async () => {
  await env.send('local:family', 'SCHEDULE_STANDUP please');
  const [answer] = await env.waitForReply('local:family');
  expect(answer.text).toMatch(/Scheduled task task-[0-9a-f]{8} for this chat: cron "55 8 \* \* 1-5"/);
  expect(answer.text).toMatch(
    /Next runs \(Europe\/Berlin\): \w{3} .*08:55 CES?T; \w{3} .*08:55 CES?T; \w{3} .*08:55 CES?T/,
  );
  const id = /task-[0-9a-f]{8}/.exec(answer.text)![0];
  const task = env.host.store.tasks.get(id)!;
  expect(task).toMatchObject({
    groupFolder: 'family',
    chatJid: 'local:family',
    status: 'active',
    contextMode: 'isolated',
  });

  fire(id);
  const replies = await env.waitForReply('local:family', { count: 2 });
  expect(replies[1].text).toBe('Standup in 5 minutes!');
  await until(() => env.host.store.tasks.recentRuns(id)[0]?.status === 'success', 30_000, 'the run to be logged');
  const [run] = env.host.store.tasks.recentRuns(id);
  expect(run).toMatchObject({ status: 'success', result: 'Standup in 5 minutes!' });
  expect(run.inputTokens + run.outputTokens).toBeGreaterThan(0);
  const after = env.host.store.tasks.get(id)!;
  expect(after.lastResult).toBe('Standup in 5 minutes!');
  expect(Date.parse(after.nextRun!)).toBeGreaterThan(Date.parse(task.nextRun!));
  // The model was told this is a scheduled run.
  const runRequest = env.fake.turnRequests().find((r) => lastUserText(r).includes('STANDUP_RUN'))!;
  expect(lastUserText(runRequest)).toMatch(
    /\[Scheduled task task-[0-9a-f]{8}, .*\]\nThis is a scheduled run, not a live message/,
  );
});

test('a task may stay silent: nothing is posted, the run is still logged', async () => {
  const before = (await repliesIn('local:family')).length;
  const t = await createTask({
    group_folder: 'family',
    prompt: 'QUIET_RUN check the calendar',
    schedule_type: 'once',
    schedule_value: inMinutes(5),
  });
  fire(t.id);
  await until(() => env.host.store.tasks.get(t.id)?.status === 'completed', 60_000, 'the once task to complete');
  expect(env.host.store.tasks.get(t.id)).toMatchObject({
    nextRun: null,
    lastResult: '(ran without posting a message)',
  });
  expect(env.host.store.tasks.recentRuns(t.id)).toMatchObject([{ status: 'success' }]);
  expect((await repliesIn('local:family')).length).toBe(before);
});

test("group context sees the chat's conversation; isolated starts fresh", async () => {
  await env.send('local:main', 'MY_SECRET word is PELICAN');
  await env.waitForReply('local:main');
  const groupTask = await createTask({
    group_folder: 'main',
    prompt: 'GROUPCTX what was the word?',
    schedule_type: 'once',
    schedule_value: inMinutes(5),
    context_mode: 'group',
  });
  const isoTask = await createTask({
    group_folder: 'main',
    prompt: 'ISOCTX what was the word?',
    schedule_type: 'once',
    schedule_value: inMinutes(6),
    context_mode: 'isolated',
  });
  fire(isoTask.id); // both are due now
  await until(
    () => [groupTask.id, isoTask.id].every((id) => env.host.store.tasks.get(id)?.status === 'completed'),
    60_000,
    'both tasks to run',
  );

  const requestFor = (marker: string) => env.fake.turnRequests().find((r) => lastUserText(r).includes(marker))!;
  expect(requestFor('GROUPCTX').text).toContain('PELICAN');
  expect(requestFor('ISOCTX').text).not.toContain('PELICAN');
  expect(await repliesIn('local:main')).toEqual(['Noted.', 'Checked.', 'Checked.']);
});

test('a run over its token budget is stopped, the task paused, and its chat told', async () => {
  const t = await createTask({
    group_folder: 'family',
    prompt: 'BIG_RUN write a long report',
    schedule_type: 'interval',
    schedule_value: '3600000',
    budget_tokens: 1000,
  });
  fire(t.id);
  await env.untilChat(
    'local:family',
    (ms) => replyTexts(ms).some((m) => m.includes('stopped the scheduled task')),
    60_000,
    'the budget message',
  );
  const note = (await repliesIn('local:family')).find((m) => m.includes('stopped the scheduled task'))!;
  expect(note).toMatch(
    new RegExp(`stopped the scheduled task ${t.id} .* paused it: its run used \\d+ tokens, over its budget of 1000`),
  );
  await until(() => env.host.store.tasks.get(t.id)?.status === 'paused', 30_000, 'the task to be paused');
  expect(env.host.store.tasks.get(t.id)!.statusReason).toMatch(/over its budget of 1000/);
  expect(env.host.store.tasks.recentRuns(t.id)).toMatchObject([{ status: 'over_budget' }]);
});

test("from inside a non-main sandbox, another group's task cannot be cancelled nor target_group used", async () => {
  const mainTask = await createTask({
    group_folder: 'main',
    prompt: 'Main only',
    schedule_type: 'interval',
    schedule_value: '3600000',
  });
  const mainTasks = env.host.store.tasks.listByGroup('main').length;
  const before = (await repliesIn('local:family')).length;
  await env.send('local:family', `CANCEL_OTHER ${mainTask.id}`);
  await env.waitForReply('local:family', { count: before + 1 });
  await env.send('local:family', 'TARGET_MAIN');
  const replies = await env.waitForReply('local:family', { count: before + 2 });
  expect(replies[before].text).toContain(`Refused: No task "${mainTask.id}" belongs to this chat`);
  expect(replies[before + 1].text).toContain('Refused: Only the main chat can schedule tasks for another group');
  expect(env.host.store.tasks.get(mainTask.id)?.status).toBe('active');
  expect(env.host.store.tasks.listByGroup('main')).toHaveLength(mainTasks);
});

test('the local API: list, get with runs, pause, resume, delete, and usage with cost', async () => {
  const t = await createTask({
    group_folder: 'family',
    prompt: 'API task',
    schedule_type: 'cron',
    schedule_value: '0 7 * * *',
  });
  const list = (await (await env.api('/api/tasks')).json()) as any;
  expect(list.tasks.map((x: any) => x.id)).toContain(t.id);
  const got = (await (await env.api(`/api/tasks/${t.id}`)).json()) as any;
  expect(got).toMatchObject({
    task: { id: t.id, groupFolder: 'family', scheduleType: 'cron', status: 'active' },
    runs: [],
  });

  const paused = (await (await env.api(`/api/tasks/${t.id}/pause`, { method: 'POST' })).json()) as any;
  expect(paused.task.status).toBe('paused');
  const resumed = (await (await env.api(`/api/tasks/${t.id}/resume`, { method: 'POST' })).json()) as any;
  expect(resumed.task.status).toBe('active');
  const removed = await env.api(`/api/tasks/${t.id}`, { method: 'DELETE' });
  expect(await removed.json()).toEqual({ removed: t.id });
  expect((await env.api(`/api/tasks/${t.id}`)).status).toBe(404);

  const bad = await env.api('/api/tasks', {
    method: 'POST',
    json: { group_folder: 'family', prompt: 'x', schedule_type: 'once', schedule_value: '2001-01-01T00:00:00Z' },
  });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as any).error).toMatch(/already passed/);

  const usage = (await (await env.api('/api/usage')).json()) as any;
  expect(usage.byDay.length).toBeGreaterThan(0);
  expect(usage.byDay[0]).toEqual({
    day: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
    inputTokens: expect.any(Number),
    outputTokens: expect.any(Number),
    cacheReadTokens: expect.any(Number),
    cacheWriteTokens: expect.any(Number),
    costUsd: expect.any(Number),
  });
  expect(usage.byGroup.map((g: any) => g.groupFolder).sort()).toEqual(['family', 'main']);
  expect(usage.byTask.length).toBeGreaterThan(0);
  expect(usage.byTask[0]).toMatchObject({
    taskId: expect.stringMatching(/^task-/),
    groupFolder: expect.any(String),
    costUsd: expect.any(Number),
  });
  expect(usage.byGroup.every((g: any) => g.costUsd > 0)).toBe(true);
});

test('a run interrupted by a restart is not lost: it runs once after the restart', async () => {
  const t = await createTask({
    group_folder: 'family',
    prompt: 'RESTART_RUN send the weekly summary',
    schedule_type: 'once',
    schedule_value: inMinutes(5),
  });
  fire(t.id);
  await until(
    () => env.fake.turnRequests().some((r) => lastUserText(r).includes('RESTART_RUN')),
    60_000,
    'the run to reach the model',
  );
  expect(env.host.store.tasks.get(t.id)!.runningSince).not.toBeNull();
  hangRestartRun = false;
  await env.restart();
  await env.untilChat(
    'local:family',
    (ms) => replyTexts(ms).includes('Survived the restart.'),
    60_000,
    'the run after the restart',
  );
  await until(() => env.host.store.tasks.get(t.id)?.status === 'completed', 30_000, 'the task to complete');
  const runs = env.host.store.tasks.recentRuns(t.id);
  expect(runs.map((r) => r.status)).toEqual(['success', 'error']);
  expect(runs[1].error).toMatch(/^interrupted: /);
  expect((await repliesIn('local:family')).filter((m) => m === 'Survived the restart.')).toHaveLength(1);
});
