// Who a turn's catch-up was addressed by, as the host fixes it when it builds
// the turn: the senders of the messages that called the assistant, not the
// chatter around them; the owner's powers only when the owner alone asked.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { soleRequester, turnContext } from '../../src/conversation/turn.js';
import { ensureHome, homePaths } from '../../src/config/home.js';
import { conversationJob, type ConversationDeps } from '../../src/conversation/conversation.js';
import { ensureMainGroup, registerGroup } from '../../src/groups/registration.js';
import { openStore, type Store } from '../../src/store/index.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-turn-'));
  const paths = homePaths(home);
  ensureHome(paths, 'Andy');
  const store = openStore(paths.db);
  cleanups.push(() => {
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  });
  ensureMainGroup({ store, paths, assistantName: 'Andy' });
  registerGroup({ store, paths, assistantName: 'Andy' }, { jid: 'local:club', name: 'Club', folder: 'club' });
  const deps: ConversationDeps = { store, timezone: 'UTC', assistantName: 'Andy', canTrigger: () => true };
  return { store, deps, group: store.groups.get('local:club')! };
}

let n = 0;
const say = (store: Store, sender: string, text: string) =>
  store.messages.insert(
    {
      id: `c${++n}`,
      chatJid: 'local:club',
      sender,
      senderName: sender.toUpperCase(),
      text,
      timestamp: new Date().toISOString(),
      fromMe: sender === 'owner',
      fromAssistant: false,
    },
    'local',
  );

test('a catch-up is asked by those who addressed the assistant, not by the chatter around them', () => {
  const { store, deps, group } = setup();
  say(store, 'ann', 'anyone for lunch?');
  say(store, 'max', '@Andy forget me');
  say(store, 'owner', 'back in 5');
  const job = conversationJob(deps, group, null);
  const first = job.firstTurn()!;
  expect(first.prompt).toContain('anyone for lunch?');
  expect(first.requesters).toEqual([{ sender: 'max', senderName: 'MAX', isOwner: false }]);
  const turn = turnContext({ chatJid: group.jid, groupFolder: group.folder, isMain: false, taskId: null }, first.requesters!);
  expect(turn.ownerStarted).toBe(false);
  expect(soleRequester(turn)).toEqual({ sender: 'max', senderName: 'MAX', isOwner: false });

  // The next batch: the owner and a member both address it, so it acts for nobody.
  say(store, 'owner', '@Andy forget what Bea said');
  say(store, 'bea', '@Andy me too');
  const next = job.nextTurn()!;
  expect(next.requesters!.map((r) => r.sender)).toEqual(['owner', 'bea']);
  const mixed = turnContext({ chatJid: group.jid, groupFolder: group.folder, isMain: false, taskId: null }, next.requesters!);
  expect(mixed.ownerStarted).toBe(false);
  expect(soleRequester(mixed)).toEqual({ refused: expect.stringMatching(/^Several people addressed me in this turn \(the owner, BEA\)/) });
});

test('a scheduled task has no requester, whatever it is handed', () => {
  const turn = turnContext({ chatJid: 'local:club', groupFolder: 'club', isMain: false, taskId: 'task-1' }, [
    { sender: 'owner', senderName: 'Owner', isOwner: true },
  ]);
  expect(turn.requesters).toEqual([]);
  expect(turn.ownerStarted).toBe(false);
  expect(soleRequester(turn)).toEqual({ refused: expect.stringMatching(/scheduled task/) });
});
