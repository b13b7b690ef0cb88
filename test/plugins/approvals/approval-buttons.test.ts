// Approval buttons without a sandbox (real store): a request's message carries
// buttons bound to it through the outbox, and a tap decides only when it is the
// owner's in a main chat, once, through the same path as a typed answer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createApprovals, parseButtonAction } from '../../../src/plugins/approvals/approvals.js';
import { homePaths } from '../../../src/core/config/home.js';
import { answerButtonPress } from '../../../src/plugins/approvals/answer-step.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openDatabase } from '../../../src/core/store/db.js';
import { createStore } from '../../../src/host.js';
import type { ButtonPress, RegisteredGroup } from '../../../src/core/types.js';

let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-approval-buttons-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

function group(jid: string, folder: string, isMain: boolean): RegisteredGroup {
  const sandbox = isMain ? {} : { approvals: { policy: { bash: 'ask' as const }, bashPatterns: ['rm'] } };
  return {
    jid,
    name: folder,
    folder,
    trigger: '@Andy',
    requiresTrigger: false,
    isMain,
    sandbox,
    addedAt: new Date().toISOString(),
  };
}

function setup(timeoutMs = 60_000) {
  const store = createStore(openDatabase(':memory:'));
  store.groups.insert(group('tg:-100', 'main', true));
  store.groups.insert(group('tg:-200', 'fam', false));
  const approvals = createApprovals({ store, paths: homePaths(home), logger: silentLogger(), timeoutMs });
  const press = (p: Partial<ButtonPress> & { action: string }) =>
    answerButtonPress(
      { store, approvals },
      { chatJid: 'tg:-100', fromOwner: true, sender: 'tg:1', senderName: 'Owner', ...p },
    );
  return { store, approvals, press };
}
const rm = { kind: 'bash' as const, detail: 'rm -rf /workspace/group/old', what: 'run a Bash command' };

test("the request's outbox item carries Yes, once / Always / No, each naming the request", () => {
  const { store, approvals } = setup();
  void approvals.check(store.groups.get('tg:-200')!, rm);
  const [req] = store.approvals.pending();
  const [item] = store.outbox.pending().filter((i) => i.chatJid === 'tg:-100');
  expect(item.text).toContain(`"yes ${req.code}"`);
  expect(item.buttons).toEqual([
    { label: 'Yes, once', action: `ap:${req.id}:yes` },
    { label: 'Always', action: `ap:${req.id}:always` },
    { label: 'No', action: `ap:${req.id}:no` },
  ]);
  expect(parseButtonAction(item.buttons![2].action)).toEqual({ id: req.id, verb: 'no' });
  // Everything else the host sends has no buttons.
  store.outbox.enqueue('tg:-200', 'hello');
  expect(store.outbox.pending().find((i) => i.text === 'hello')!.buttons).toBeNull();
  approvals.stop();
});

test("a member's tap, or the owner's outside a main chat, decides nothing; the owner's in the main chat decides once", async () => {
  const { store, approvals, press } = setup();
  const outcome = approvals.check(store.groups.get('tg:-200')!, rm);
  const [req] = store.approvals.pending();
  const action = `ap:${req.id}:always`;
  expect(press({ action, fromOwner: false })).toEqual({ notice: 'Only the owner can answer this.' });
  expect(press({ action, chatJid: 'tg:-200' })).toEqual({ notice: 'Only the owner can answer this.' });
  expect(press({ action: `${req.code}:yes` })).toEqual({ notice: 'This button no longer does anything.' });
  expect(store.approvals.get(req.id)!.status).toBe('pending');

  const text = `Approved ${req.code}, and always allowed from now on for fam.`;
  expect(press({ action })).toEqual({ notice: text, done: text });
  expect(await outcome).toEqual({ approved: true, message: 'The owner approved this.' });
  expect(store.groups.get('tg:-200')!.sandbox.approvals?.allow).toEqual([{ kind: 'bash', detail: rm.detail }]);
  expect(press({ action: `ap:${req.id}:no` })).toEqual({
    notice: 'Already answered: approved by owner in tg:-100 (tg:1, button).',
  });
  expect(store.approvals.get(req.id)!.status).toBe('approved');
});

test('a tap after the timeout says so and changes nothing', async () => {
  const { store, approvals, press } = setup(30);
  const outcome = approvals.check(store.groups.get('tg:-200')!, rm);
  const [req] = store.approvals.pending();
  expect((await outcome).approved).toBe(false);
  expect(press({ action: `ap:${req.id}:yes` })).toEqual({
    notice: 'Timed out: no answer came in time, so it was a no.',
  });
  expect(store.approvals.get(req.id)).toMatchObject({ status: 'expired', decidedBy: 'timeout' });
});
