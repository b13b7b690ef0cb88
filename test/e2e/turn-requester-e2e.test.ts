// Who asked is fixed when a turn starts (real host, bwrap sandbox, Agent SDK,
// fake model): a member's turn keeps working while someone else writes in the
// group, and the newcomer's message is context, never identity. Their forget,
// "what do you know about me" and "don't remember me" stay about them, and the
// owner writing mid-turn gives the member's turn no owner powers.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

const JID = 'local:club';
let env: TestEnv;

/** A turn the fake model holds before its first tool call, until the test has let someone else write. */
interface Race {
  marker: string;
  started: () => void;
  gate: Promise<void>;
}
let race: Race | null = null;

const tool = (name: string, input: unknown) => ({ toolUse: { name: `mcp__nanoclaw__${name}`, input } });

async function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) {
    // The member's turn goes on from each tool result, as a model would.
    const preview = /preview (fg-[0-9a-f]+)/.exec(text);
    if (preview && text.includes('Found (')) return tool('forget_confirm', { preview_id: preview[1] });
    if (text.includes('About ') && text.includes('in this chat:')) return tool('dont_remember_me', {});
    return { text: `Tool said: ${text}` };
  }
  const r = race;
  if (r && text.includes(r.marker)) {
    r.started();
    await r.gate;
    if (r.marker === 'RACE_FORGET_ME') return tool('forget_me', {});
    if (r.marker === 'RACE_ABOUT_ME') return tool('what_do_you_know_about_me', {});
    if (r.marker === 'RACE_OWNER') return tool('forget_preview', { sender: 'user-Bea' });
  }
  if (text.includes('OPT_OUT_NOW')) return tool('dont_remember_me', {});
  return { text: 'OK' };
}

const post = async (text: string, sender: string, senderName: string) => {
  const res = await env.api(`/api/chats/${encodeURIComponent(JID)}/messages`, {
    method: 'POST',
    json: { sender, senderName, text },
  });
  expect(res.status).toBe(202);
};
const member = (name: string, text: string) => post(text, `user-${name}`, name);

/** Waits until every message so far has been answered and the agent is gone (or, with `kept`, waits warm). */
async function settled(kept = false) {
  const { store } = env.host;
  const done = () => (kept ? env.host.agents.get(JID)?.idleSince === 0 : !env.host.agents.has(JID));
  await until(
    () => !store.messages.after(JID, store.outbox.cursor(JID)).some((m) => !m.fromAssistant) && done(),
    90_000,
    'the club chat to be answered',
  );
}

/**
 * Max addresses the assistant with `marker`; while that turn runs, `intruder` writes in the group.
 * Answers the text of every tool result Max's turn was shown.
 */
async function raceWith(
  marker: string,
  intruder: () => Promise<void>,
  intruderMarker: string,
  kept = false,
): Promise<string[]> {
  let started!: () => void;
  const turnStarted = new Promise<void>((r) => (started = r));
  let open!: () => void;
  race = { marker, started, gate: new Promise<void>((r) => (open = r)) };
  await member('Max', `${marker} please`);
  await turnStarted;
  await intruder();
  await env.waitRouted((m) => m.text.includes(intruderMarker));
  open();
  await settled(kept);
  race = null;
  return env.fake
    .turnRequests()
    .filter((r) => isToolResultTurn(r) && r.text.includes(marker))
    .map((r) => lastUserText(r));
}

const texts = () => env.host.store.messages.recent(JID, 200).map((m) => `${m.sender}: ${m.text}`);

beforeAll(async () => {
  env = await startTestEnv({ script });
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: JID, name: 'Club', folder: 'club', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
  // A group that answers only "@Andy …": everything else is chatter.
  const quiet = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:quiet', name: 'Quiet', folder: 'quiet' },
  });
  expect(quiet.status).toBe(201);
});
afterAll(async () => {
  await env?.close();
});

test("a member's forget_me erases their own messages, not those of someone who wrote during their turn", async () => {
  await member('Ann', 'my bank PIN is 4412, do not tell');
  await member('Max', 'max likes kayaks');
  await settled();
  fs.appendFileSync(
    path.join(env.home, 'groups', 'club', 'CLAUDE.md'),
    '\n- Ann keeps her PIN 4412 here\n- Max paddles\n',
  );

  const shown = await raceWith('RACE_FORGET_ME', () => member('Ann', 'ANN_CHATTER anyone for lunch?'), 'ANN_CHATTER');

  const left = texts();
  expect(left).toContain('user-Ann: my bank PIN is 4412, do not tell');
  expect(left).toContain('user-Ann: ANN_CHATTER anyone for lunch?');
  expect(left.filter((l) => l.startsWith('user-Max:'))).toEqual([]);
  const memory = fs.readFileSync(path.join(env.home, 'groups', 'club', 'CLAUDE.md'), 'utf8');
  expect(memory).toContain('Ann keeps her PIN 4412 here');
  expect(memory).not.toContain('Max paddles');
  // Ann's words never reach Max's turn.
  expect(shown.join('\n')).toMatch(/Forgotten \(receipt/);
  expect(shown.join('\n')).not.toContain('4412');
}, 180_000);

test('"what do you know about me" and "don\'t remember me" stay about the member who asked', async () => {
  await member('Cy', 'cy was here');
  await settled();
  const shown = await raceWith('RACE_ABOUT_ME', () => member('Cy', 'CY_CHATTER hello'), 'CY_CHATTER');

  expect(shown[0]).toMatch(/About Max in this chat/);
  expect(shown[0]).not.toMatch(/Cy/);
  expect(shown[1]).toContain('nothing Max says');
  const { forget } = env.host.store;
  expect(forget.isOptedOut(JID, 'user-Max')).toBe(true);
  expect(forget.isOptedOut(JID, 'user-Cy')).toBe(false);
  forget.optIn(JID, 'user-Max');
}, 180_000);

test("the owner writing during a member's turn gives that turn no owner powers", async () => {
  await member('Bea', 'BEA_WORDS my diary entry');
  await settled();
  const shown = await raceWith(
    'RACE_OWNER',
    () => post('OWNER_CHATTER back in 5', 'local-user', 'Owner'),
    'OWNER_CHATTER',
  );

  expect(shown[0]).toMatch(/Members can only forget their own messages/);
  expect(texts()).toContain('user-Bea: BEA_WORDS my diary entry');
}, 180_000);

test("an opt-out goes by sender id: the member's chatter is not stored, another member who takes their name still is", async () => {
  const QUIET = 'local:quiet';
  const send = async (sender: string, senderName: string, text: string) => {
    const res = await env.api(`/api/chats/${encodeURIComponent(QUIET)}/messages`, {
      method: 'POST',
      json: { sender, senderName, text },
    });
    expect(res.status).toBe(202);
    return env.waitRouted((m) => m.text === text);
  };
  await send('user-Kim', 'Kim', '@Andy OPT_OUT_NOW please');
  await env.untilChat(
    QUIET,
    (ms) => ms.some((m) => m.fromAssistant && m.text.includes('nothing Kim says')),
    90_000,
    'the opt-out',
  );
  expect(env.host.store.forget.isOptedOut(QUIET, 'user-Kim')).toBe(true);

  // Chatter that does not address the assistant: Kim's is not stored; the other "Kim" (a different sender id) is.
  await send('user-Kim', 'Kim', 'KIMCHATTER lunch at noon');
  await send('user-Kim2', 'Kim', 'OTHERKIM bring snacks');
  await send('user-Lee', 'Lee', 'LEECHATTER fine by me');
  const stored = env.host.store.messages.recent(QUIET, 50).map((m) => `${m.sender}: ${m.text}`);
  expect(stored).toContain('user-Kim2: OTHERKIM bring snacks');
  expect(stored).toContain('user-Lee: LEECHATTER fine by me');
  expect(stored.some((l) => l.includes('KIMCHATTER'))).toBe(false);
  expect(env.host.store.search('KIMCHATTER')).toEqual([]);
}, 180_000);

test("on an agent kept warm, too, the owner writing during a member's turn gives that turn no owner powers", async () => {
  // The club's agent, idle past IDLE_TIMEOUT within the hour, waits warm; Max's message is its first turn since.
  await env.restart({ NANOCLAW_WARM_AGENTS: '2', IDLE_TIMEOUT: '1000' });
  await member('Bea', 'BEA_AGAIN more diary');
  await settled(true);
  const agent = env.host.agents.get(JID);
  const shown = await raceWith(
    'RACE_OWNER',
    async () => {
      expect(env.host.agents.get(JID)).toBe(agent);
      await post('OWNER_AGAIN back in 5', 'local-user', 'Owner');
    },
    'OWNER_AGAIN',
    true,
  );

  expect(env.host.agents.get(JID)).toBe(agent);
  expect(shown[0]).toMatch(/Members can only forget their own messages/);
  expect(texts()).toContain('user-Bea: BEA_AGAIN more diary');
}, 180_000);
