// The forget engine on a real store and a real home: a canary planted in every
// place is previewed by place, erased, verified, and receipted; afterwards no
// file under the home (the database, its WAL and shared memory included)
// holds its bytes, and the full-text index cannot find it.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { type HomePaths } from '../../../src/core/config/home.js';
import { createForgetEngine } from '../../../src/plugins/forget/engine.js';
import { byteScan } from '../../../src/plugins/forget/verify.js';
import { type Store } from '../../../src/core/store/index.js';
import { tempStore } from '../../support/store.js';

const CANARY = 'zebracanary4417';
function setup() {
  const { home, paths, store } = tempStore({ prefix: 'nanoclaw-forget-', groups: ['family'] });
  const resets: string[] = [];
  const engine = createForgetEngine({
    store,
    paths,
    resetSession: async (folder) => {
      resets.push(folder);
      store.groups.clearSession(folder);
    },
  });
  return { home, paths, store, engine, resets };
}

let n = 0;
function say(store: Store, chatJid: string, sender: string, text: string, extra: Record<string, unknown> = {}) {
  return store.messages.insert(
    {
      id: `m${++n}`,
      chatJid,
      sender,
      senderName: sender,
      text,
      timestamp: new Date().toISOString(),
      fromMe: sender === 'owner',
      fromAssistant: false,
      ...extra,
    },
    'local',
  )!;
}

/** A canary in every place the host and the sandbox keep data. */
function plantEverywhere(store: Store, paths: HomePaths) {
  const g = path.join(paths.groups, 'family');
  say(store, 'local:family', 'sam', `the ${CANARY} is on friday`);
  say(store, 'local:family', 'kim', 'unrelated words stay');
  store.indexMessages();
  fs.appendFileSync(path.join(g, 'CLAUDE.md'), `\n- Sam plans the ${CANARY}\n- Kim likes tea\n`);
  fs.appendFileSync(path.join(paths.global, 'CLAUDE.md'), `\n- global note about ${CANARY}\n`);
  fs.mkdirSync(path.join(g, 'conversations'), { recursive: true });
  fs.writeFileSync(
    path.join(g, 'conversations', '2026-01-01-chat.md'),
    `# Conversation\n\n**User**: ${CANARY} please\n\n**Andy**: sure\n`,
  );
  const projects = path.join(paths.sessions, 'family', '.claude', 'projects', '-workspace-group');
  fs.mkdirSync(projects, { recursive: true });
  fs.writeFileSync(
    path.join(projects, 'sess-1.jsonl'),
    JSON.stringify({ type: 'user', message: { content: CANARY } }) + '\n',
  );
  store.groups.setSession('family', 'sess-1');
  store.tasks.create({
    id: 'task-1',
    groupFolder: 'family',
    chatJid: 'local:family',
    prompt: `remind about the ${CANARY}`,
    scheduleType: 'interval',
    scheduleValue: '3600000',
    contextMode: 'isolated',
    nextRun: null,
  });
  store.tasks.create({
    id: 'task-2',
    groupFolder: 'family',
    chatJid: 'local:family',
    prompt: 'water the plants',
    scheduleType: 'interval',
    scheduleValue: '3600000',
    contextMode: 'isolated',
    nextRun: null,
  });
  const run = store.tasks.startRun('task-2', new Date().toISOString());
  store.tasks.finishRun(run, { durationMs: 5, status: 'success', result: `watered; also ${CANARY}` });
  fs.mkdirSync(path.join(g, 'inbox'), { recursive: true });
  fs.writeFileSync(path.join(g, 'inbox', `photo-${CANARY}.jpg`), 'jpegbytes');
  fs.writeFileSync(path.join(g, 'inbox', '1700-abc.txt'), `note: ${CANARY}\n`);
  store.outbox.enqueue('local:family', `Noted the ${CANARY}`);
  fs.mkdirSync(paths.logs, { recursive: true });
  fs.appendFileSync(path.join(paths.logs, 'nanoclaw.log'), `{"msg":"ok"}\n{"text":"${CANARY}"}\n`);
}

test('a canary in every place is previewed by place, then erased down to the bytes with a receipt', async () => {
  const { home, paths, store, engine, resets } = setup();
  plantEverywhere(store, paths);
  expect(byteScan(home, CANARY).length).toBeGreaterThan(5);

  const request = {
    chatJids: undefined,
    folders: ['main', 'family'],
    includeGlobal: true,
    includeHost: true,
    phrase: CANARY,
    scopeLabel: 'every chat',
  };
  const by = { chatJid: 'local:main', sender: 'owner' };
  const preview = engine.preview(request, by);
  const places = Object.fromEntries(preview.places.map((p) => [p.place, p.count]));
  expect(places).toEqual({
    messages: 1,
    memory: 2,
    archives: 1,
    transcript: 1,
    tasks: 1,
    'task runs': 1,
    media: 2,
    outbox: 1,
    logs: 1,
  });
  expect(preview.places.find((p) => p.place === 'messages')!.excerpts[0]).toContain(CANARY);

  // Another chat or person cannot confirm it.
  expect(engine.confirm(preview.id, { chatJid: 'local:family', sender: 'owner' }).ok).toBe(false);
  const res = engine.confirm(preview.id, by);
  if (!res.ok) throw new Error(res.error);
  await res.settled;
  // Single use.
  expect(engine.confirm(preview.id, by).ok).toBe(false);

  const receipt = store.forget.receipt(res.receipt.id)!;
  expect(receipt.verified).toBe(true);
  expect(receipt.remaining).toEqual([]);
  const removed = Object.fromEntries(receipt.places.map((p) => [p.place, p.removed]));
  expect(removed).toMatchObject({
    messages: 1,
    memory: 2,
    archives: 1,
    transcript: 1,
    tasks: 1,
    'task runs': 1,
    media: 2,
    outbox: 1,
    logs: 1,
  });
  expect(JSON.stringify(receipt)).not.toContain(CANARY);
  expect(resets).toEqual(['family']);

  // The bytes are gone everywhere, the database files included; the rest stays.
  expect(byteScan(home, CANARY)).toEqual([]);
  expect(
    store.db.prepare(`SELECT COUNT(*) AS n FROM messages_fts WHERE messages_fts MATCH ?`).get(`"${CANARY}"`),
  ).toEqual({ n: 0 });
  expect(store.search('unrelated').length).toBe(1);
  expect(fs.readFileSync(path.join(paths.groups, 'family', 'CLAUDE.md'), 'utf8')).toContain('Kim likes tea');
  expect(store.tasks.get('task-2')).toBeTruthy();
  expect(fs.readFileSync(path.join(paths.logs, 'nanoclaw.log'), 'utf8')).toContain('"msg":"ok"');
});

test("a person's own forget takes their messages and lines naming them, nobody else's", async () => {
  const { paths, store, engine } = setup();
  say(store, 'local:family', 'sam', 'sam says hello');
  say(store, 'local:family', 'owner', 'owner says hello');
  say(store, 'local:family', 'kim', 'kim says hello');
  fs.appendFileSync(path.join(paths.groups, 'family', 'CLAUDE.md'), '\n- sam is vegetarian\n- kim is not\n');
  const preview = engine.preview(
    {
      chatJids: ['local:family'],
      folders: ['family'],
      includeGlobal: false,
      includeHost: false,
      sender: 'sam',
      senderNames: ['sam'],
      scopeLabel: 'sam in local:family',
    },
    { chatJid: 'local:family', sender: 'sam' },
  );
  const res = engine.confirm(preview.id, { chatJid: 'local:family', sender: 'sam' });
  if (!res.ok) throw new Error(res.error);
  const left = store.messages.recent('local:family', 10).map((m) => m.sender);
  expect(left).toEqual(['owner', 'kim']);
  const memory = fs.readFileSync(path.join(paths.groups, 'family', 'CLAUDE.md'), 'utf8');
  expect(memory).not.toContain('sam is vegetarian');
  expect(memory).toContain('kim is not');
});
