// The forget tools as the host runs them, on a real store: who asks is the
// turn's requester, fixed when the turn started, so a member's call can only
// ever reach their own messages, whatever the arguments say or whoever wrote
// since; a preview is confirmed only by its requester in its chat; "what do
// you know about me" counts what is kept.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import type { Identity } from '../../../src/core/gateway/gateway.js';
import { turnContext } from '../../../src/core/conversation/turn.js';
import { createForgetEngine } from '../../../src/plugins/forget/engine.js';
import { tempStore } from '../../support/store.js';
import { type Store } from '../../../src/core/store/index.js';
import { createForgetTools } from '../../../src/plugins/forget/tools.js';
import type { ToolAnswer } from '../../../runner/protocol.js';
import { createToolRegistry } from '../../../src/core/tools/registry.js';

function setup() {
  const { paths, store } = tempStore({ prefix: 'nanoclaw-forget-tools-', groups: ['club'] });
  const engine = createForgetEngine({ store, paths, resetSession: async () => {} });
  const tools = { handle: createToolRegistry({ tools: createForgetTools({ store, paths, engine }) }) };
  const club: Identity = { groupFolder: 'club', chatJid: 'local:club', isMain: false, taskId: null };
  return { store, paths, tools, club };
}

let n = 0;
const say = (store: Store, sender: string, text: string) =>
  store.messages.insert(
    {
      id: `t${++n}`,
      chatJid: 'local:club',
      sender,
      senderName: sender,
      text,
      timestamp: new Date().toISOString(),
      fromMe: sender === 'owner',
      fromAssistant: false,
    },
    'local',
  );
/** A turn of the club's agent that these people addressed (as the host fixes it when the turn starts). */
const turnBy = (identity: Identity, ...senders: string[]): Identity => ({
  ...identity,
  turn: turnContext(
    identity,
    senders.map((s) => ({ sender: s, senderName: s, isOwner: s === 'owner' })),
  ),
});

const text = (a: ToolAnswer | null) => (a && (a.ok ? a.text : `REFUSED ${a.error}`)) ?? '';

test("a member's forget reaches only their own messages, whatever the arguments name", async () => {
  const { store, tools, club } = setup();
  say(store, 'owner', 'the tiramisu plan is mine');
  say(store, 'kim', 'kim likes tiramisu too');
  say(store, 'kim', 'forget tiramisu');
  const kim = turnBy(club, 'kim');
  expect(text(await tools.handle(kim, 'forget_preview', { sender: 'owner' }))).toMatch(
    /^REFUSED Members can only forget their own/,
  );
  expect(text(await tools.handle(kim, 'forget_preview', { phrase: 'x1', chat: 'all' }))).toMatch(
    /^REFUSED Members can only forget in this chat/,
  );
  const preview = text(await tools.handle(kim, 'forget_preview', { phrase: 'tiramisu' }));
  expect(preview).toContain('- messages: 2');
  const id = /preview (fg-[0-9a-f]+)/.exec(preview)![1];
  // Someone else's turn cannot confirm Kim's preview.
  say(store, 'sam', 'yes do it');
  expect(text(await tools.handle(turnBy(club, 'sam'), 'forget_confirm', { preview_id: id }))).toMatch(
    /^REFUSED That preview was made for someone else/,
  );
  say(store, 'kim', 'yes');
  expect(text(await tools.handle(turnBy(club, 'kim'), 'forget_confirm', { preview_id: id }))).toContain(
    'Forgotten (receipt',
  );
  const left = store.messages.recent('local:club', 10).map((m) => `${m.sender}: ${m.text}`);
  expect(left).toContain('owner: the tiramisu plan is mine');
  expect(left.filter((l) => l.startsWith('kim:'))).toEqual(['kim: yes']);
});

test('a scheduled task cannot forget, and "what do you know about me" counts what is kept', async () => {
  const { store, paths, tools, club } = setup();
  // Even a task whose prompt a member wrote, and a turn with nobody recorded as asking.
  expect(text(await tools.handle(turnBy({ ...club, taskId: 'task-1' }, 'kim'), 'forget_me', {}))).toMatch(
    /^REFUSED .*scheduled task/,
  );
  expect(text(await tools.handle(club, 'forget_me', {}))).toMatch(/^REFUSED /);
  say(store, 'kim', 'hello');
  say(store, 'kim', 'what do you know about me?');
  fs.appendFileSync(path.join(paths.groups, 'club', 'CLAUDE.md'), '\n- kim brings the snacks\n');
  const kim = turnBy(club, 'kim');
  const about = text(await tools.handle(kim, 'what_do_you_know_about_me', {}));
  expect(about).toContain('2 of their messages are kept');
  expect(about).toContain('1 memory line mention them');
  expect(text(await tools.handle(kim, 'dont_remember_me', {}))).toContain('nothing kim says');
  expect(store.forget.isOptedOut('local:club', 'kim')).toBe(true);
});

test('"what do you know about me" goes by direct message where the channel has one', async () => {
  const { store, paths } = setup();
  const engine = createForgetEngine({ store, paths, resetSession: async () => {} });
  const tools = {
    handle: createToolRegistry({
      tools: createForgetTools({ store, paths, engine, isDirectChat: (jid) => jid.startsWith('dm:') }),
    }),
  };
  const club: Identity = { groupFolder: 'club', chatJid: 'local:club', isMain: false, taskId: null };
  say(store, 'dm:kim', 'what do you know about me?');
  const answer = text(await tools.handle(turnBy(club, 'dm:kim'), 'what_do_you_know_about_me', {}));
  expect(answer).toContain('Sent to them privately');
  const sent = store.outbox.pending().filter((o) => o.chatJid === 'dm:kim');
  expect(sent).toHaveLength(1);
  expect(sent[0].text).toContain('1 of their messages are kept');
});

test('a catch-up several people addressed acts for nobody; owner powers only when the owner alone asked', async () => {
  const { store, tools, club } = setup();
  say(store, 'bea', 'bea diary entry');
  say(store, 'kim', 'kim note');
  // Kim and Bea both addressed one catch-up: whose "me" is it?
  const both = turnBy(club, 'kim', 'bea');
  for (const name of ['forget_me', 'what_do_you_know_about_me', 'dont_remember_me'])
    expect(text(await tools.handle(both, name, {}))).toMatch(
      /^REFUSED Several people addressed me in this turn \(kim, bea\)/,
    );
  expect(store.forget.isOptedOut('local:club', 'kim')).toBe(false);
  // The owner and a member together: no owner powers.
  const mixed = turnBy(club, 'owner', 'kim');
  expect(text(await tools.handle(mixed, 'forget_preview', { sender: 'bea' }))).toMatch(/^REFUSED Several people/);
  // The owner alone (from two of their own clients) keeps them.
  const owner: Identity = {
    ...club,
    turn: turnContext(club, [
      { sender: 'owner', senderName: 'Owner', isOwner: true },
      { sender: 'dashboard', senderName: 'Owner', isOwner: true },
    ]),
  };
  expect(text(await tools.handle(owner, 'forget_preview', { sender: 'bea' }))).toContain('- messages: 1');
});
