// Without the approvals plugin nobody can be asked, so "ask" must mean no: a host tool whose declared action
// the chat's settings ask about is refused, and so is Bash where the settings ask about Bash. What the settings
// allow still goes ahead.
import { expect, test } from 'vitest';
import { noApprover } from '../../src/core/ask.js';
import type { Identity } from '../../src/core/conversation/turn.js';
import type { RegisteredGroup } from '../../src/core/types.js';

const group = (policy: Record<string, string>): RegisteredGroup => ({
  jid: 'local:fam',
  name: 'Family',
  folder: 'fam',
  trigger: '@Andy',
  requiresTrigger: true,
  isMain: false,
  sandbox: { approvals: { policy } },
  addedAt: '2026-01-01T00:00:00.000Z',
});
const fam: Identity = { groupFolder: 'fam', chatJid: 'local:fam', isMain: false, taskId: null };
const action = { kind: 'cross_chat' as const, detail: 'schedule in main', what: 'act in another chat' };

test('an action the settings ask about is refused; one they allow goes ahead', async () => {
  const asking = noApprover(() => group({ cross_chat: 'ask', bash: 'ask' }));
  expect(await asking.forTool(fam, action)).toMatch(/no owner to ask/);
  expect(await asking.check(group({ network: 'ask' }), { kind: 'network', detail: 'x:443', what: 'reach x' })).toEqual({
    approved: false,
    message: expect.stringMatching(/no owner to ask/),
  });
  expect((await asking.runnerTool(fam, 'Bash', { command: 'ls' })).approved).toBe(false);
  expect((await asking.runnerTool(fam, 'Read', { file_path: '/workspace/group/a' })).approved).toBe(true);

  const allowing = noApprover(() => group({ cross_chat: 'allow' }));
  expect(await allowing.forTool(fam, action)).toBeNull();
  expect((await allowing.runnerTool(fam, 'Bash', { command: 'ls' })).approved).toBe(true);
});

test('a chat that is not registered is refused whatever it asks', async () => {
  const none = noApprover(() => undefined);
  expect(await none.forTool(fam, action)).toMatch(/no owner to ask/);
  expect((await none.runnerTool(fam, 'Bash', { command: 'ls' })).approved).toBe(false);
});
