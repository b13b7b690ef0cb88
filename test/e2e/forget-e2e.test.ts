// Memory you control, end to end (real host, bwrap sandbox, Agent SDK, fake
// model): the owner forgets a canary planted in every place through the chat
// (preview, "yes", confirm) and through `nanoclaw forget`; afterwards no file
// under the home holds it and the agent's next turn is not shown it. A member
// can only forget themself, and an opted-out member leaves no row and no index
// entry, yet is still answered.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { byteScan } from '../../src/plugins/forget/verify.js';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { runCli } from '../support/cli.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

const CANARY = 'quokkacanary9081';
const CLI_CANARY = 'wombatcanary5523';
const KIM_CANARY = 'kimsecret7730';

let env: TestEnv;
const tool = (name: string, input: unknown) => ({ toolUse: { name: `mcp__nanoclaw__${name}`, input } });

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: `Tool said: ${text}` };
  if (text.includes('FORGET_IT')) return tool('forget_preview', { phrase: CANARY });
  if (text.includes('YES_CONFIRM')) {
    // The model reads the preview id from the conversation, as a real one would.
    const ids = [...req.text.matchAll(/preview (fg-[0-9a-f]+)/g)].map((m) => m[1]);
    return tool('forget_confirm', { preview_id: ids.at(-1) });
  }
  if (text.includes('FORGET_OWNER')) return tool('forget_preview', { sender: 'local-user' });
  if (text.includes('MEMBER_PHRASE')) return tool('forget_preview', { phrase: 'ownersecret' });
  if (text.includes('OPT_OUT')) return tool('dont_remember_me', {});
  return { text: 'OK' };
}

/** Sends as the owner (the local client) or as a member, and waits for the one new reply (forgetting can remove older ones). */
async function ask(jid: string, text: string, as: 'owner' | string = 'owner'): Promise<string> {
  const seen = new Set((await env.messages(jid)).filter((m) => m.fromAssistant).map((m) => m.id));
  const json =
    as === 'owner'
      ? { sender: 'local-user', senderName: 'Owner', text }
      : { sender: `user-${as}`, senderName: as, text };
  const res = await env.api(`/api/chats/${encodeURIComponent(jid)}/messages`, { method: 'POST', json });
  expect(res.status).toBe(202);
  const fresh = (ms: any[]) => ms.filter((m) => m.fromAssistant && !seen.has(m.id));
  const ms = await env.untilChat(jid, (all) => fresh(all).length > 0, 90_000, `a reply to "${text.slice(0, 30)}"`);
  return fresh(ms)[0].text;
}

const agentGone = (jid: string) => until(() => !env.host.agents.has(jid), 30_000, `the agent in ${jid} to finish`);

/** Everything the host keeps for the family chat besides messages: memory, archive, task and run log, media, logs. */
function plantFiles(canary: string) {
  const g = path.join(env.home, 'groups', 'family');
  fs.appendFileSync(path.join(g, 'CLAUDE.md'), `\n- The ${canary} is a secret\n`);
  fs.appendFileSync(path.join(env.home, 'groups', 'global', 'CLAUDE.md'), `\n- global: ${canary}\n`);
  fs.mkdirSync(path.join(g, 'conversations'), { recursive: true });
  fs.writeFileSync(
    path.join(g, 'conversations', `2026-01-01-${canary.slice(0, 3)}.md`),
    `**User**: about the ${canary}\n`,
  );
  fs.mkdirSync(path.join(g, 'inbox'), { recursive: true });
  fs.writeFileSync(path.join(g, 'inbox', `1700-${canary}.jpg`), 'jpeg');
  fs.writeFileSync(path.join(g, 'inbox', `1700-${canary.slice(0, 4)}.txt`), `scan of the ${canary}\n`);
  const { store } = env.host;
  store.tasks.create({
    id: `task-${canary.slice(0, 6)}`,
    groupFolder: 'family',
    chatJid: 'local:family',
    prompt: `remind about the ${canary}`,
    scheduleType: 'once',
    scheduleValue: '2099-01-01T00:00:00Z',
    contextMode: 'isolated',
    nextRun: null,
  });
  store.tasks.create({
    id: `task-run-${canary.slice(0, 4)}`,
    groupFolder: 'family',
    chatJid: 'local:family',
    prompt: 'water the plants',
    scheduleType: 'once',
    scheduleValue: '2099-01-01T00:00:00Z',
    contextMode: 'isolated',
    nextRun: null,
  });
  const run = store.tasks.startRun(`task-run-${canary.slice(0, 4)}`, new Date().toISOString());
  store.tasks.finishRun(run, { durationMs: 3, status: 'success', result: `watered, and the ${canary}` });
  fs.mkdirSync(path.join(env.home, 'logs'), { recursive: true });
  fs.appendFileSync(path.join(env.home, 'logs', 'nanoclaw.log'), `{"level":30,"text":"${canary}"}\n`);
}

/** Runs `nanoclaw …` against the test host. */
const nanoclaw = (args: string[]) => runCli(args, { NANOCLAW_HOME: env.home, TZ: 'UTC' });

beforeAll(async () => {
  env = await startTestEnv({ script });
  for (const [jid, name, folder] of [
    ['local:family', 'Family', 'family'],
    ['local:club', 'Club', 'club'],
  ]) {
    const res = await env.api('/api/groups', { method: 'POST', json: { jid, name, folder, requiresTrigger: false } });
    expect(res.status).toBe(201);
  }
  fs.writeFileSync(path.join(env.home, 'data', 'host.json'), JSON.stringify({ url: env.host.url, pid: process.pid }));
});
afterAll(async () => {
  await env?.close();
});

test('the owner forgets a canary from every place through the chat: receipt, zero bytes left, and the next turn cannot see it', async () => {
  // The canary in a message and (by that turn) the session transcript, then everywhere else.
  await ask('local:family', `we are planning the ${CANARY} for friday`);
  await agentGone('local:family');
  plantFiles(CANARY);
  expect(byteScan(env.home, CANARY).length).toBeGreaterThan(5);
  expect(byteScan(path.join(env.home, 'data', 'sessions', 'family'), CANARY).length).toBeGreaterThan(0);

  const preview = await ask('local:family', `FORGET_IT everything about the ${CANARY}`);
  for (const place of ['messages', 'memory', 'archives', 'transcript', 'tasks', 'task runs', 'media', 'logs'])
    expect(preview).toContain(`- ${place}: `);
  const receipt = await ask('local:family', 'YES_CONFIRM yes, forget it');
  expect(receipt).toMatch(/Forgotten \(receipt rc-/);
  expect(receipt).not.toContain(CANARY);
  await agentGone('local:family');
  await until(() => env.host.store.forget.receipts()[0]?.verified === true, 30_000, 'the receipt to be verified');

  const stored = env.host.store.forget.receipts()[0];
  const removed = Object.fromEntries(stored.places.map((p) => [p.place, p.removed]));
  for (const place of ['messages', 'memory', 'archives', 'transcript', 'tasks', 'task runs', 'media', 'logs'])
    expect(removed[place], place).toBeGreaterThan(0);
  expect(JSON.stringify(stored)).not.toContain(CANARY);
  expect(byteScan(env.home, CANARY)).toEqual([]);

  // The dashboard's receipts list has it, without the content.
  const listed = await (await env.api('/api/forget/receipts')).json();
  expect(listed.receipts[0].id).toBe(stored.id);

  await ask('local:family', 'ANYTHING_LEFT what do you remember?');
  const next = env.fake
    .turnRequests()
    .filter((r) => lastUserText(r).includes('ANYTHING_LEFT'))
    .at(-1)!;
  expect(next.text).not.toContain(CANARY);
  expect(next.text).not.toContain('FORGET_IT');
}, 180_000);

test('nanoclaw forget --yes erases a canary from every place and prints the receipt', async () => {
  await ask('local:family', `note the ${CLI_CANARY} please`);
  await agentGone('local:family');
  plantFiles(CLI_CANARY);
  const run = await nanoclaw(['forget', CLI_CANARY, '--yes']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/Found \d+ items/);
  expect(run.stdout).toContain('Final search: no match remains.');
  expect(byteScan(env.home, CLI_CANARY)).toEqual([]);
}, 120_000);

test("a member cannot erase the owner's or anyone else's messages; their own forget leaves the others", async () => {
  await ask('local:club', 'the ownersecret is mine', 'owner');
  const refused = await ask('local:club', 'FORGET_OWNER erase the owner', 'Kim');
  expect(refused).toContain('Members can only forget their own messages');
  await ask('local:club', 'MEMBER_PHRASE forget ownersecret', 'Kim');
  await ask('local:club', 'YES_CONFIRM', 'Kim');
  const left = await env.messages('local:club');
  expect(left.some((m) => m.sender === 'local-user' && m.text.includes('ownersecret'))).toBe(true);
  expect(left.some((m) => m.sender === 'user-Kim' && m.text.includes('MEMBER_PHRASE'))).toBe(false);
}, 120_000);

test('an opted-out member leaves no row and no index entry, and is still answered', async () => {
  expect(await ask('local:club', 'OPT_OUT please do not remember me', 'Kim')).toContain('nothing Kim says');
  const reply = await ask('local:club', `my ${KIM_CANARY} is here`, 'Kim');
  expect(reply).toBe('OK');
  const { store } = env.host;
  await until(() => !store.forget.findMessages({ phrase: KIM_CANARY }).length, 10_000, 'the opted-out message to go');
  expect(store.search(KIM_CANARY)).toEqual([]);
  expect(
    store.db.prepare(`SELECT COUNT(*) AS n FROM messages_fts WHERE messages_fts MATCH ?`).get(`"${KIM_CANARY}"`),
  ).toEqual({ n: 0 });
  expect(byteScan(path.join(env.home, 'store'), KIM_CANARY)).toEqual([]);
  // Nor does the session transcript keep their words.
  await until(
    () => byteScan(path.join(env.home, 'data', 'sessions', 'club'), KIM_CANARY).length === 0,
    10_000,
    'the transcript to drop it',
  );
  // The owner sees the opt-out and can reverse it.
  const { optOuts } = await (await env.api('/api/forget/opt-outs')).json();
  expect(optOuts).toEqual([expect.objectContaining({ chatJid: 'local:club', sender: 'user-Kim' })]);
  const undo = await env.api('/api/forget/opt-outs', {
    method: 'DELETE',
    json: { chatJid: 'local:club', sender: 'user-Kim' },
  });
  expect(undo.status).toBe(200);
  await ask('local:club', 'kept again now', 'Kim');
  expect((await env.messages('local:club')).some((m) => m.text === 'kept again now')).toBe(true);
}, 120_000);
