// Who a turn's catch-up was addressed by, as the host fixes it when it builds
// the turn: the senders of the messages that called the assistant, not the
// chatter around them; the owner's powers only when the owner alone asked.
import { expect, test } from 'vitest';
import { turnContext } from '../../src/core/conversation/turn.js';
import { soleRequester } from '../../src/plugins/forget/tools.js';
import { conversationJob, type ConversationDeps } from '../../src/core/conversation/conversation.js';
import { tempStore } from '../support/store.js';
import { type Store } from '../../src/core/store/index.js';

function setup() {
  const { store } = tempStore({ prefix: 'nanoclaw-turn-', groups: ['club'] });
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
  const turn = turnContext(
    { chatJid: group.jid, groupFolder: group.folder, isMain: false, taskId: null },
    first.requesters!,
  );
  expect(turn.ownerStarted).toBe(false);
  expect(soleRequester(turn)).toEqual({ sender: 'max', senderName: 'MAX', isOwner: false });

  // The next batch: the owner and a member both address it, so it acts for nobody.
  say(store, 'owner', '@Andy forget what Bea said');
  say(store, 'bea', '@Andy me too');
  const next = job.nextTurn()!;
  expect(next.requesters!.map((r) => r.sender)).toEqual(['owner', 'bea']);
  const mixed = turnContext(
    { chatJid: group.jid, groupFolder: group.folder, isMain: false, taskId: null },
    next.requesters!,
  );
  expect(mixed.ownerStarted).toBe(false);
  expect(soleRequester(mixed)).toEqual({
    refused: expect.stringMatching(/^Several people addressed me in this turn \(the owner, BEA\)/),
  });
});

test('a scheduled task has no requester, whatever it is handed', () => {
  const turn = turnContext({ chatJid: 'local:club', groupFolder: 'club', isMain: false, taskId: 'task-1' }, [
    { sender: 'owner', senderName: 'Owner', isOwner: true },
  ]);
  expect(turn.requesters).toEqual([]);
  expect(turn.ownerStarted).toBe(false);
  expect(soleRequester(turn)).toEqual({ refused: expect.stringMatching(/scheduled task/) });
});
