// Memory, sessions, the compaction archive and main-group administration, end
// to end: real host, real bwrap sandbox, real Agent SDK, fake model.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

let env: TestEnv;
const bash = (command: string) => ({ toolUse: { name: 'Bash', input: { command, description: 'run it' } } });

/** Turns held by a test until it lets them answer. */
const held = new Map<string, () => void>();
const holdUntilReleased = (name: string) => new Promise<void>((r) => held.set(name, r));

async function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: `Tool said: ${text}` };
  if (text.includes('WRITE_TUESDAYS'))
    return bash(`printf '%s\\n' '- Meetings are on Tuesdays' >> /workspace/global/CLAUDE.md`);
  if (text.includes('REMEMBER_BOAT') && req.body?.tools?.length) {
    await holdUntilReleased('boat');
    return bash(`printf '%s\\n' '- The boat is called Nimbus' >> /workspace/group/CLAUDE.md`);
  }
  if (text.includes('REMEMBER_COLOUR'))
    return bash(`printf '%s\\n' '- Favourite colour: teal' >> /workspace/group/CLAUDE.md`);
  if (text.includes('WRITE_GLOBAL'))
    return bash(`printf '%s\\n' '- The user prefers metric units' >> /workspace/global/CLAUDE.md`);
  if (text.includes('ADD_CLUB'))
    return {
      toolUse: {
        name: 'mcp__nanoclaw__register_group',
        input: { jid: 'local:club', name: 'Book Club', folder: 'club' },
      },
    };
  if (text.includes('REMOVE_CLUB'))
    return { toolUse: { name: 'mcp__nanoclaw__unregister_group', input: { jid: 'local:club' } } };
  if (text.includes('LIST_GROUPS')) return { toolUse: { name: 'mcp__nanoclaw__list_groups', input: {} } };
  if (text.includes('SEARCH_LISBON'))
    return { toolUse: { name: 'mcp__nanoclaw__search_messages', input: { query: 'Lisbon' } } };
  if (text.includes('BIG_CONTEXT')) return { text: 'That was a lot.', usage: { input_tokens: 995_000 } };
  return { text: 'OK' };
}

const repliesIn = async (jid: string) =>
  (await env.messages(jid)).filter((m) => m.fromAssistant).map((m) => m.text as string);

/** Sends a message and waits for the one reply it gets. */
async function ask(jid: string, text: string): Promise<string> {
  const before = (await repliesIn(jid)).length;
  await env.send(jid, text);
  const replies = await env.waitForReply(jid, { count: before + 1 });
  return replies[before].text;
}

/** Waits until the group's agent has finished, so the next message starts a fresh sandbox. */
const agentGone = (jid: string) => until(() => !env.host.agents.has(jid), 30_000, `the agent in ${jid} to finish`);

const requestWith = (marker: string) =>
  env.fake
    .turnRequests()
    .filter((r) => lastUserText(r).includes(marker))
    .at(-1)!;

beforeAll(async () => {
  env = await startTestEnv({ script });
  for (const [jid, name, folder] of [
    ['local:family', 'Family', 'family'],
    ['local:work', 'Work', 'work'],
  ]) {
    const res = await env.api('/api/groups', { method: 'POST', json: { jid, name, folder, requiresTrigger: false } });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  for (const r of held.values()) r();
  await env?.close();
});

test('"remember" ends with the fact in the group\'s CLAUDE.md, and later turns are shown it', async () => {
  await ask('local:family', 'REMEMBER_COLOUR my favourite colour is teal');
  const memory = fs.readFileSync(path.join(env.home, 'groups/family/CLAUDE.md'), 'utf8');
  expect(memory).toContain('- Favourite colour: teal');
  await agentGone('local:family');
  await ask('local:family', 'WHAT_COLOUR is my favourite?');
  const req = requestWith('WHAT_COLOUR');
  expect(req.text).toMatch(/Contents of \/workspace\/group\/CLAUDE\.md[\s\S]*- Favourite colour: teal/);
});

test('a non-main agent cannot write global memory: the tool shows the failure and the file is unchanged', async () => {
  const file = path.join(env.home, 'groups/global/CLAUDE.md');
  const before = fs.readFileSync(file, 'utf8');
  const reply = await ask('local:work', 'WRITE_GLOBAL please');
  expect(reply).toMatch(/Read-only file system/);
  expect(fs.readFileSync(file, 'utf8')).toBe(before);
});

test("main writes global memory, and it reaches a non-main group's model request", async () => {
  await ask('local:main', 'WRITE_GLOBAL remember globally that I prefer metric');
  expect(fs.readFileSync(path.join(env.home, 'groups/global/CLAUDE.md'), 'utf8')).toContain(
    '- The user prefers metric units',
  );
  await agentGone('local:work');
  await ask('local:work', 'HOW_FAR is it to Lisbon?');
  const shown = requestWith('HOW_FAR').text;
  expect(shown).toMatch(/Contents of \/workspace\/global\/CLAUDE\.md[\s\S]*- The user prefers metric units/);
  expect(shown).toContain('Contents of /workspace/group/CLAUDE.md');
});

test('a session that can no longer be resumed is replaced, and the answer still arrives', async () => {
  await agentGone('local:family');
  const bogus = '11111111-2222-3333-4444-555555555555';
  env.host.store.groups.setSession('family', bogus);
  expect(await ask('local:family', 'AFTER_RESET hello again')).toBe('OK');
  const now = env.host.store.groups.session('family');
  expect(now).toBeTruthy();
  expect(now).not.toBe(bogus);
  expect((await repliesIn('local:family')).some((t) => t.includes("couldn't answer"))).toBe(false);
});

test('before the conversation is compacted, it is archived to conversations/<date>-<slug>.md', async () => {
  await ask('local:family', 'BIG_CONTEXT tell me about flights to Lisbon');
  await ask('local:family', 'NEXT_AFTER_BIG and now?');
  const dir = path.join(env.home, 'groups/family/conversations');
  await until(() => fs.existsSync(dir) && fs.readdirSync(dir).length > 0, 30_000, 'the archive file');
  const [file] = fs.readdirSync(dir);
  // Named for the day and the session's first words.
  expect(file).toMatch(/^\d{4}-\d{2}-\d{2}-[a-z0-9-]+\.md$/);
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  expect(text).toContain('**Sam**');
  expect(text).toContain('BIG_CONTEXT tell me about flights to Lisbon');
  expect(text).toContain('That was a lot.');
});

test('main registers and removes a group through the agent; non-main is refused', async () => {
  expect(await ask('local:main', 'ADD_CLUB add group Book Club')).toMatch(
    /Registered Book Club \(local:club\) in folder club/,
  );
  expect(env.host.store.groups.get('local:club')).toMatchObject({ name: 'Book Club', isMain: false });
  expect(fs.existsSync(path.join(env.home, 'groups/club/CLAUDE.md'))).toBe(true);
  expect(await ask('local:main', 'LIST_GROUPS please')).toMatch(/Book Club \(jid local:club, folder club/);

  expect(await ask('local:work', 'LIST_GROUPS please')).toContain('Refused: Only the main chat can use list_groups.');
  expect(await ask('local:work', 'REMOVE_CLUB now')).toContain('Refused: Only the main chat can use unregister_group.');
  expect(env.host.store.groups.get('local:club')).toBeDefined();

  expect(await ask('local:main', 'REMOVE_CLUB now')).toMatch(/Unregistered Book Club/);
  expect(env.host.store.groups.get('local:club')).toBeUndefined();
});

test("search_messages finds the group's own old message and never another group's", async () => {
  await ask('local:work', 'The offsite flights to Lisbon are booked');
  const found = await ask('local:family', 'SEARCH_LISBON what did we say?');
  expect(found).toContain('BIG_CONTEXT tell me about flights to Lisbon');
  expect(found).not.toContain('offsite');
  const fromMain = await ask('local:main', 'SEARCH_LISBON everywhere');
  expect(fromMain).toContain('offsite');
});

/** A group whose agent stays alive between the test's messages (it waits five minutes for follow-ups). */
async function longLivedGroup(jid: string, name: string, folder: string): Promise<void> {
  expect(
    (await env.api('/api/groups', { method: 'POST', json: { jid, name, folder, requiresTrigger: false } })).status,
  ).toBe(201);
  const res = await env.api(`/api/groups/${encodeURIComponent(jid)}`, {
    method: 'PATCH',
    json: { sandbox: { idleTimeoutMs: 300_000 } },
  });
  expect(res.status).toBe(200);
}

const append = (file: string, line: string) => fs.appendFileSync(path.join(env.home, file), `${line}\n`);

test('memory edited while an agent is alive: its next turn sees the current global and group CLAUDE.md, in the same session', async () => {
  await longLivedGroup('local:notes', 'Notes', 'notes');
  await ask('local:notes', 'NOTES_FIRST my dog needs a name');
  const session = env.host.store.groups.session('notes');
  expect(env.host.agents.has('local:notes')).toBe(true);

  append('groups/global/CLAUDE.md', '- The dog is called Biscuit');
  append('groups/notes/CLAUDE.md', '- The garden gate is green');
  await ask('local:notes', 'DOG_NAME what is the dog called?');
  const shown = requestWith('DOG_NAME').text;
  expect(shown).toMatch(/Contents of \/workspace\/global\/CLAUDE\.md[\s\S]*- The dog is called Biscuit/);
  expect(shown).toMatch(/Contents of \/workspace\/group\/CLAUDE\.md[\s\S]*- The garden gate is green/);
  // The session was resumed, not replaced.
  expect(shown).toContain('NOTES_FIRST my dog needs a name');
  expect(env.host.store.groups.session('notes')).toBe(session);
});

test("main writes global memory during its turn: the next turn of another live agent, and main's own, see it", async () => {
  await longLivedGroup('local:desk', 'Desk', 'desk');
  await ask('local:desk', 'DESK_FIRST hello');
  expect(env.host.agents.has('local:desk')).toBe(true);

  expect(await ask('local:main', 'WRITE_TUESDAYS remember that meetings are on Tuesdays')).toMatch(/^Tool said/);
  expect(fs.readFileSync(path.join(env.home, 'groups/global/CLAUDE.md'), 'utf8')).toContain(
    '- Meetings are on Tuesdays',
  );
  await ask('local:desk', 'DESK_WHEN when are meetings?');
  expect(requestWith('DESK_WHEN').text).toMatch(
    /Contents of \/workspace\/global\/CLAUDE\.md[\s\S]*- Meetings are on Tuesdays/,
  );
  await ask('local:main', 'MAIN_WHEN when are meetings?');
  expect(requestWith('MAIN_WHEN').text).toMatch(
    /Contents of \/workspace\/global\/CLAUDE\.md[\s\S]*- Meetings are on Tuesdays/,
  );
});

test('a follow-up that waits while the agent writes its own memory is answered with that memory loaded', async () => {
  await ask('local:notes', 'NOTES_AGAIN still there?');
  const before = (await repliesIn('local:notes')).length;
  await env.send('local:notes', 'REMEMBER_BOAT the boat is called Nimbus');
  await until(() => held.has('boat'), 30_000, 'the remember turn to reach the model');
  await env.send('local:notes', 'BOAT_NAME what is the boat called?');
  held.get('boat')!();
  const replies = await env.waitForReply('local:notes', { count: before + 2 });
  expect(replies.slice(before).map((m) => m.text)).toEqual([expect.stringMatching(/^Tool said/), 'OK']);
  expect(requestWith('BOAT_NAME').text).toMatch(
    /Contents of \/workspace\/group\/CLAUDE\.md[\s\S]*- The boat is called Nimbus/,
  );
});
