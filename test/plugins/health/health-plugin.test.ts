// The health plugin on its own, against a real store: each model call's usage is
// kept, a failing model API is told to the chat after a while and a refused
// credential to the owner at once, and GET /api/status shows the error that matters.
import { expect, test } from 'vitest';
import { Hono } from 'hono';
import { classifyStatus, type ModelOutcome } from '../../../src/core/gateway/model-problem.js';
import type { Identity } from '../../../src/core/gateway/types.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { PluginCore, PluginParts } from '../../../src/core/plugin.js';
import { openDatabase } from '../../../src/core/store/db.js';
import { createStore } from '../../../src/core/store/index.js';
import type { RegisteredGroup } from '../../../src/core/types.js';
import { health } from '../../../src/plugins/health/index.js';

const group = (jid: string, folder: string, isMain = false): RegisteredGroup => ({
  jid,
  name: folder,
  folder,
  trigger: '@Andy',
  requiresTrigger: false,
  isMain,
  sandbox: {},
  addedAt: new Date().toISOString(),
});

function setup(delayMs: string, silenceMs = '60000') {
  const store = createStore(openDatabase(':memory:'), [health]);
  store.groups.insert(group('local:main', 'main', true));
  store.groups.insert(group('local:fam', 'fam'));
  const owner: string[] = [];
  const core = {
    config: {
      env: { NANOCLAW_DELAY_NOTICE_MS: delayMs, NANOCLAW_MODEL_SILENCE_MS: silenceMs },
      timezone: 'UTC',
      anthropicBaseUrl: 'http://wrong.example:8080',
    },
    store,
    logger: silentLogger(),
    notifyOwner: (text: string) => {
      owner.push(text);
      return true;
    },
  } as unknown as PluginCore;
  const parts = health.setup!(core) as PluginParts;
  const told = () => store.outbox.pending().filter((m) => m.kind === 'system');
  return { store, owner, parts, told, core };
}

const fam: Identity = { groupFolder: 'fam', chatJid: 'local:fam', isMain: false, taskId: null };
const failed = (status: number): ModelOutcome => ({ ok: false, problem: classifyStatus(status, 'nope', 'api-key')! });

test('usage is kept per call, and served by GET /api/usage', async () => {
  const { store, parts } = setup('60000');
  parts.gateway!.onUsage!({
    groupFolder: 'fam',
    sessionId: 's',
    taskId: null,
    model: 'claude-sonnet-4',
    inputTokens: 10,
    outputTokens: 5,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  });
  expect(store.usage.byGroup()).toMatchObject([{ groupFolder: 'fam', inputTokens: 10, outputTokens: 5, calls: 1 }]);
  const app = new Hono();
  parts.api!(app);
  const res = await app.request('/api/usage?days=1');
  expect(res.status).toBe(200);
  expect(((await res.json()) as { byGroup: unknown[] }).byGroup).toMatchObject([
    { groupFolder: 'fam', inputTokens: 10 },
  ]);
});

test('a refused credential: the owner is told once, status shows it, and a call that works clears it', () => {
  const { owner, parts } = setup('60000');
  expect(parts.status!()).toEqual({ lastError: null, modelError: null });
  parts.gateway!.onModelCall!(fam, failed(401));
  parts.gateway!.onModelCall!(fam, failed(401));
  expect(owner).toHaveLength(1);
  expect(owner[0]).toMatch(
    /^⚠️ The model API refused NanoClaw's credential, so no chat can get an answer\. To fix it: /,
  );
  const status = parts.status!() as { lastError: { message: string }; modelError: { kind: string; status: number } };
  expect(status.modelError).toMatchObject({ kind: 'auth', status: 401 });
  expect(status.lastError.message).toMatch(/refused NanoClaw's credential/);
  parts.gateway!.onModelCall!(fam, { ok: true });
  // The error from before the model API worked again is history, not the current state.
  expect(parts.status!()).toEqual({ lastError: null, modelError: null });
  parts.drain!();
});

test("an error from the host's previous run is history: after a restart status shows no last error", () => {
  const { store, parts, core } = setup('60000');
  parts.onGiveUp!('local:fam', "⚠️ I couldn't answer: the model API failed.");
  expect(parts.status!()).toMatchObject({ lastError: { message: "⚠️ I couldn't answer: the model API failed." } });
  parts.drain!();
  // The next run of the host, on the same store, a moment later.
  const again = health.setup!({ ...core, now: () => Date.now() + 1000 }) as PluginParts;
  expect(again.status!()).toEqual({ lastError: null, modelError: null });
  // The Activity page still lists it, with its time.
  expect(store.usage.recentErrors()).toMatchObject([{ message: "⚠️ I couldn't answer: the model API failed." }]);
  again.drain!();
});

test('a chat waiting on a failing model API hears why after the delay; one given up on hears nothing more', async () => {
  const { parts, told } = setup('20');
  parts.gateway!.onModelCall!(fam, failed(529));
  await new Promise((r) => setTimeout(r, 80));
  expect(told().map((m) => [m.chatJid, m.text])).toEqual([
    [
      'local:fam',
      expect.stringMatching(/^⏳ My answer is delayed: .*I keep retrying and will answer here when it works/),
    ],
  ]);
  parts.gateway!.onModelCall!(fam, { ok: true });

  const other: Identity = { ...fam, chatJid: 'local:main', groupFolder: 'main' };
  parts.gateway!.onModelCall!(other, failed(529));
  parts.onGiveUp!('local:main', 'gave up');
  await new Promise((r) => setTimeout(r, 80));
  expect(told().filter((m) => m.chatJid === 'local:main')).toEqual([]);
  parts.drain!();
});

test('an upstream that never answers: the chat hears it once per outage, naming the address; an answer clears it', async () => {
  const { parts, told } = setup('60000', '30');
  const hold = () => {
    let answer!: () => void;
    const answered = new Promise<void>((r) => (answer = r));
    parts.gateway!.onModelRequest!(fam, answered);
    return answer;
  };
  const first = hold();
  await new Promise((r) => setTimeout(r, 80));
  // The SDK gave up on the first try and tries again: no second notice.
  hold();
  await new Promise((r) => setTimeout(r, 80));
  expect(told().map((m) => [m.chatJid, m.text])).toEqual([
    [
      'local:fam',
      '⏳ The model API is not answering at http://wrong.example:8080 (no answer for 0.03 s). If that address is wrong, fix ANTHROPIC_BASE_URL in .env and restart; your message is kept and answered when the API answers.',
    ],
  ]);
  const status = parts.status!() as { lastError: { message: string }; modelError: { fix: string; status: null } };
  expect(status.modelError).toMatchObject({ kind: 'unavailable', status: null });
  expect(status.modelError.fix).toMatch(/fix ANTHROPIC_BASE_URL in \.env and restart/);
  expect(status.lastError.message).toMatch(/not answering at http:\/\/wrong\.example:8080/);

  first();
  parts.gateway!.onModelCall!(fam, { ok: true });
  expect(parts.status!()).toEqual({ lastError: null, modelError: null });

  // A call answered in time says nothing.
  hold()();
  await new Promise((r) => setTimeout(r, 80));
  expect(told()).toHaveLength(1);
  parts.drain!();
});
