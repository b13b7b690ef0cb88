// One registry: every tool the model is shown has exactly one host declaration,
// and the declared rules (main chat only, what needs the owner's yes) are what
// dispatch enforces — a handler never runs for a call its declaration refuses.
import fs from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { z } from 'zod';
import { ensureHome, homePaths } from '../../src/core/config/home.js';
import type { Identity } from '../../src/core/gateway/gateway.js';
import { createForgetEngine } from '../../src/plugins/forget/engine.js';
import { openDatabase } from '../../src/core/store/db.js';
import { createStore } from '../../src/host.js';
import { createForgetTools } from '../../src/plugins/forget/tools.js';
import { createEmailTools, NOT_SET_UP } from '../../src/plugins/email/tools.js';
import { createMcpTools } from '../../src/plugins/mcp/tools.js';
import { createToolRegistry, tool } from '../../src/core/tools/registry.js';
import { createTaskTools } from '../../src/plugins/scheduler/tools.js';
import { createGroupTools } from '../../src/plugins/groups/tools.js';
import { createSearchTools } from '../../src/plugins/search/index.js';
import { coreTools, createToolHandler } from '../../src/core/tools/tools.js';
import { TOOL_DEFINITIONS, type ToolDefinition } from '../support/tool-definitions.js';
import { makeHome } from '../support/harness.js';
import { localGroup } from '../support/groups.js';

const home = makeHome('nanoclaw-registry-');
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));
const paths = homePaths(home);
ensureHome(paths, 'Andy');

const MAIN: Identity = { groupFolder: 'main', chatJid: 'local:main', isMain: true, taskId: null };
const FAMILY: Identity = { groupFolder: 'family', chatJid: 'local:family', isMain: false, taskId: null };
const group = (folder: string, isMain = false) => localGroup(folder, isMain, { name: folder });

function host() {
  const store = createStore(openDatabase(':memory:'));
  store.groups.insert(group('main', true));
  store.groups.insert(group('family'));
  const deps = { store, paths, assistantName: 'Andy', timezone: 'Europe/Berlin' };
  const engine = createForgetEngine({ store, paths, resetSession: async () => {} });
  const extra = [
    ...createSearchTools(deps),
    ...createGroupTools(deps),
    ...createTaskTools({ ...deps, onChange: () => {} }),
    ...createForgetTools({ store, paths, engine }),
    ...createEmailTools({ settings: () => ({ problem: NOT_SET_UP }), noteLogin: () => {} }),
    ...createMcpTools({ store, paths, renew: () => {} }),
  ];
  const asked: { kind: string; detail: string }[] = [];
  const call = createToolHandler({
    ...deps,
    tools: extra,
    approve: async (_identity, action) => {
      asked.push({ kind: action.kind, detail: action.detail });
      return 'Not done: the owner said no.';
    },
  });
  return { store, call, asked, all: [...coreTools(deps), ...extra] };
}

test('every tool the model is shown is declared on the host exactly once', () => {
  const names = host()
    .all.map((t) => t.def.name)
    .sort();
  expect(names).toEqual(TOOL_DEFINITIONS.map((d) => d.name).sort());
  // The host declares the very definitions the runner shows, so a rule cannot differ between the two.
  for (const t of host().all) expect(TOOL_DEFINITIONS).toContain(t.def);
});

test('a main-only tool is refused in another chat by its declaration, before anything is asked or done', async () => {
  const { call, asked, store } = host();
  for (const def of TOOL_DEFINITIONS.filter((d) => d.mainOnly)) {
    const r = await call(FAMILY, def.name, { jid: 'local:x', name: 'X', folder: 'x' });
    expect(r).toEqual({ ok: false, error: `Only the main chat can use ${def.name}.` });
  }
  expect(asked).toEqual([]);
  expect(store.groups.get('local:x')).toBeUndefined();
});

test('what a tool declares as needing the owner is asked, with the whole action; a no changes nothing', async () => {
  const { call, asked, store } = host();
  const r = await call(MAIN, 'register_group', { jid: 'local:x', name: 'X', folder: 'x' });
  expect(r).toEqual({ ok: false, error: 'Not done: the owner said no.' });
  expect(store.groups.get('local:x')).toBeUndefined();
  await call(MAIN, 'schedule_task', {
    prompt: 'p',
    schedule_type: 'once',
    schedule_value: '2030-01-01T00:00:00Z',
    target_group: 'family',
  });
  expect(store.tasks.listAll()).toEqual([]);
  // Scheduling for its own chat is not a cross-chat action: nothing to ask.
  const own = await call(MAIN, 'schedule_task', {
    prompt: 'p',
    schedule_type: 'once',
    schedule_value: '2030-01-01T00:00:00Z',
  });
  expect(own.ok).toBe(true);
  expect(asked).toEqual([
    { kind: 'groups', detail: 'register_group jid=local:x name=X folder=x' },
    { kind: 'cross_chat', detail: 'schedule_task for group family (once 2030-01-01T00:00:00Z): p' },
  ]);
});

test('dispatch: unknown names (even object keys) are refused; a handler only ever sees parsed arguments', async () => {
  const seen: unknown[] = [];
  const def: ToolDefinition = { name: 'probe', description: 'test', args: { n: z.number().int() } };
  const call = createToolRegistry({ tools: [tool(def, (_i, args) => (seen.push(args), { ok: true, text: 'ran' }))] });
  expect(await call(MAIN, 'constructor', {})).toEqual({ ok: false, error: 'Unknown tool "constructor".' });
  expect((await call(MAIN, 'probe', { n: 'one' })).ok).toBe(false);
  expect(await call(MAIN, 'probe', { n: 1, extra: 'dropped' })).toEqual({ ok: true, text: 'ran' });
  expect(seen).toEqual([{ n: 1 }]);
  expect(() =>
    createToolRegistry({
      tools: [tool(def, () => ({ ok: true, text: '' })), tool(def, () => ({ ok: true, text: '' }))],
    }),
  ).toThrow(/Two tools are named "probe"/);
});
