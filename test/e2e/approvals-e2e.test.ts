// "Ask me first" end to end: real host, real bwrap sandbox, real Agent SDK
// (its canUseTool hook answered by the gateway), fake model. The owner answers
// in the main chat as the local owner; a member's answer is only a message.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { hashDetail } from '../../src/plugins/approvals/store.js';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { familyWithHostFolder, startTestEnv, type TestEnv } from '../support/harness.js';
import { openBrowser } from '../support/browser.js';

let env: TestEnv;
const LONG_TAIL = 'x'.repeat(5000);
/** The code the main chat's own agent tries to answer with (it must not count). */
let forgedCode = '';

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: `Tool said: ${text}` };
  const rm = /RM_(\w+)/.exec(text);
  if (rm) {
    const tail = rm[1].startsWith('long') ? ` # ${LONG_TAIL}` : '';
    return {
      toolUse: {
        name: 'Bash',
        input: { command: `rm /workspace/group/victim-${rm[1]}.txt${tail}`, description: `clean up victim ${rm[1]}` },
      },
    };
  }
  if (text.includes('WRITE_MOUNT'))
    return {
      toolUse: {
        name: 'Write',
        input: { file_path: '/workspace/extra/notes/hello.txt', content: 'written after a yes\n' },
      },
    };
  if (text.includes('FORGE_YES'))
    return { toolUse: { name: 'mcp__nanoclaw__send_message', input: { text: `yes ${forgedCode}` } } };
  if (text.includes('SCHEDULE_FOR_FAMILY'))
    return {
      toolUse: {
        name: 'mcp__nanoclaw__schedule_task',
        input: {
          prompt: 'nag the family',
          schedule_type: 'interval',
          schedule_value: '3600000',
          target_group: 'family',
        },
      },
    };
  if (text.includes('REGISTER_KIDS'))
    return {
      toolUse: { name: 'mcp__nanoclaw__register_group', input: { jid: 'local:kids', name: 'Kids', folder: 'kids' } },
    };
  return { text: 'OK' };
}

const victim = (name: string) => path.join(env.home, 'groups', 'family', `victim-${name}.txt`);
function plant(name: string): void {
  fs.writeFileSync(victim(name), 'keep me');
}

/** The owner's own message in a chat (the local owner sender is fromMe). */
async function ownerSays(jid: string, text: string): Promise<void> {
  const res = await env.api(`/api/chats/${encodeURIComponent(jid)}/messages`, {
    method: 'POST',
    json: { sender: 'local-user', text },
  });
  expect(res.status).toBe(202);
}

/** Waits for a new approval request in the main chat (after the first `seen`) that contains `needle`; answers its text and code. */
async function approvalRequest(seen: number, needle: string): Promise<{ text: string; code: string }> {
  const mine = (ms: any[]) =>
    asks(ms)
      .slice(seen)
      .filter((m) => (m.text as string).includes(needle));
  const ms = await env.untilChat(
    'local:main',
    (m) => mine(m).length > 0,
    60_000,
    `an approval request about ${needle} in the main chat`,
  );
  const text = mine(ms).pop().text as string;
  return { text, code: /code ([A-Z2-9]{4})/.exec(text)![1] };
}
const asks = (ms: any[]) => ms.filter((m) => m.fromAssistant && /^Approval needed/.test(m.text));
const replies = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => m.text as string);

async function untilReply(jid: string, pattern: RegExp): Promise<string> {
  const ms = await env.untilChat(
    jid,
    (m) => replies(m).some((t) => pattern.test(t)),
    90_000,
    `a reply matching ${pattern} in ${jid}`,
  );
  return replies(ms).find((t) => pattern.test(t))!;
}

let notes: string;

beforeAll(async () => {
  // No wait after a "no" here: these tests answer no and ask again at once (approvals-flood tests the wait).
  env = await startTestEnv({
    script,
    env: { NANOCLAW_APPROVAL_TIMEOUT_MS: '60000', NANOCLAW_APPROVAL_COOLDOWN_MS: '0' },
  });
  // A host folder the family chat may write to: writes there are asked about by default.
  notes = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-notes-'));
  await familyWithHostFolder(env, notes, ['rm']);
}, 60_000);
afterAll(async () => {
  await env?.close();
  if (notes) fs.rmSync(notes, { recursive: true, force: true });
});

test('yes: the owner sees the whole command, the reason and a code, and exactly that command runs', async () => {
  plant('one');
  await env.send('local:family', 'please RM_one');
  const { text, code } = await approvalRequest(0, 'victim-one');
  expect(text).toContain('the agent in "Family" (folder family)');
  expect(text).toContain('rm /workspace/group/victim-one.txt');
  expect(text).toContain('Why: clean up victim one');
  expect(text).toContain(`yes ${code}`);
  await env.untilChat('local:family', (m) =>
    replies(m).some((t) => /^Waiting for the owner's approval to run a Bash command/.test(t)),
  );
  expect(fs.existsSync(victim('one'))).toBe(true);

  await ownerSays('local:main', `yes ${code}`);
  await untilReply('local:main', new RegExp(`^Approved ${code}, this once`));
  await untilReply('local:family', /^Tool said:/);
  expect(fs.existsSync(victim('one'))).toBe(false);
  const req = env.host.store.approvals.history().find((r) => r.code === code)!;
  expect(req).toMatchObject({ status: 'approved', kind: 'bash', groupFolder: 'family' });
  expect(req.decidedBy).toMatch(/^owner in local:main/);

  // The same code again finds nothing: codes work once.
  await ownerSays('local:main', `yes ${code}`);
  await untilReply('local:main', /^Not done: No request waits for code/);
}, 120_000);

test('mount_write by default: a Write to a host folder waits for the owner, and lands only after the yes', async () => {
  const before = asks(await env.messages('local:main')).length;
  await env.send('local:family', 'please WRITE_MOUNT');
  // The owner is asked about what changed in the sandbox's staged copy, not about the tool call's words.
  const { text, code } = await approvalRequest(before, 'created /workspace/extra/notes/hello.txt');
  expect(text).toContain('write to a host folder mounted into its sandbox');
  expect(fs.existsSync(path.join(notes, 'hello.txt'))).toBe(false);
  await ownerSays('local:main', `yes ${code}`);
  await env.untilChat('local:family', () => fs.existsSync(path.join(notes, 'hello.txt')), 60_000, 'the approved write');
  expect(fs.readFileSync(path.join(notes, 'hello.txt'), 'utf8')).toBe('written after a yes\n');
}, 120_000);

test("a member's yes, a used code and another request's code are refused; the owner's no reaches the agent, and nothing runs", async () => {
  plant('two');
  const before = asks(await env.messages('local:main')).length;
  await env.send('local:family', 'please RM_two');
  const { code } = await approvalRequest(before, 'victim-two');
  const first = env.host.store.approvals.history().find((r) => r.status === 'approved')!;

  // A member types the code, in the group and in the main chat: only messages.
  const memberIds = [
    await env.send('local:main', `yes ${code}`, 'Mallory'),
    await env.send('local:family', `yes ${code}`, 'Mallory'),
  ];
  for (const id of memberIds) expect(await env.waitRouted((m) => m.id === id)).not.toBe('answered');
  // An old code (another request's, already used) does not touch this one.
  await ownerSays('local:main', `always ${first.code}`);
  await untilReply('local:main', new RegExp(`No request waits for code ${first.code}`));
  expect(env.host.store.approvals.pendingByCode(code)?.status).toBe('pending');
  expect(fs.existsSync(victim('two'))).toBe(true);

  await ownerSays('local:main', `no ${code}`);
  const said = await untilReply('local:family', /^Tool said:.*The owner declined/s);
  expect(said).toContain('Do not try it another way');
  expect(fs.existsSync(victim('two'))).toBe(true);
  expect(env.host.store.approvals.history().find((r) => r.code === code)).toMatchObject({ status: 'denied' });
}, 120_000);

test('the main chat\'s own agent sending "yes CODE" is not the owner: the request stays pending', async () => {
  plant('seven');
  const before = asks(await env.messages('local:main')).length;
  await env.send('local:family', 'please RM_seven');
  const { code } = await approvalRequest(before, 'victim-seven');
  forgedCode = code;
  await ownerSays('local:main', 'FORGE_YES');
  await env.untilChat('local:main', (m) => replies(m).includes(`yes ${code}`), 60_000, "the agent's forged yes");
  await untilReply('local:main', /^Tool said: Sent/);
  expect(env.host.store.approvals.pendingByCode(code)?.status).toBe('pending');
  await ownerSays('local:main', `no ${code}`);
  await untilReply('local:family', /The owner declined/);
  expect(fs.existsSync(victim('seven'))).toBe(true);
}, 120_000);

test('always: the rule is added, and the next identical command runs without asking', async () => {
  plant('three');
  const before = asks(await env.messages('local:main')).length;
  await env.send('local:family', 'please RM_three');
  const { code } = await approvalRequest(before, 'victim-three');
  await ownerSays('local:main', `always ${code}`);
  await untilReply('local:main', new RegExp(`^Approved ${code}, and always allowed`));
  await env.untilChat('local:family', () => !fs.existsSync(victim('three')), 60_000, 'the approved rm');
  expect(env.host.store.groups.get('local:family')!.sandbox.approvals!.allow).toEqual([
    { kind: 'bash', detail: 'rm /workspace/group/victim-three.txt' },
  ]);

  plant('three');
  const count = replies(await env.messages('local:family')).length;
  await env.send('local:family', 'again RM_three');
  await env.untilChat(
    'local:family',
    (m) => replies(m).length > count && !fs.existsSync(victim('three')),
    90_000,
    'the second run',
  );
  expect(asks(await env.messages('local:main')).filter((m) => m.text.includes('victim-three'))).toHaveLength(1);
}, 150_000);

test('a 5,000-character command is never shown cut: the chat names the file holding all of it, and its hash', async () => {
  plant('long');
  const before = asks(await env.messages('local:main')).length;
  await env.send('local:family', 'please RM_long');
  const { text, code } = await approvalRequest(before, 'too long to show here');
  const req = env.host.store.approvals.pendingByCode(code)!;
  const full = `rm /workspace/group/victim-long.txt # ${LONG_TAIL}`;
  expect(req.detail).toBe(full);
  expect(text).not.toContain('xxxxxxxxxx');
  expect(text).not.toContain('rm /workspace');
  expect(text).toContain(`sha256 ${hashDetail(full).slice(0, 16)}`);
  const file = /groups\/main\/approvals\/(apr-[0-9a-f]+\.txt)/.exec(text)![1];
  expect(fs.readFileSync(path.join(env.home, 'groups', 'main', 'approvals', file), 'utf8')).toBe(full);
  await ownerSays('local:main', `no ${code}`);
  await untilReply('local:family', /The owner declined/);
  expect(fs.existsSync(victim('long'))).toBe(true);
}, 120_000);

test('timeout and restart: no answer means no, a late yes is refused, and a request left pending by a crash is denied', async () => {
  await env.restart({ NANOCLAW_APPROVAL_TIMEOUT_MS: '1500' });
  plant('four');
  const before = asks(await env.messages('local:main')).length;
  await env.send('local:family', 'please RM_four');
  const { code } = await approvalRequest(before, 'victim-four');
  const expired = () => env.host.store.approvals.history().find((r) => r.code === code)?.status === 'expired';
  await env.untilChat('local:family', expired, 60_000, 'the request to expire');
  await untilReply('local:family', /Timed out after 2 s with no answer from the owner: treat it as a no/);
  await ownerSays('local:main', `yes ${code}`);
  await untilReply('local:main', new RegExp(`No request waits for code ${code}`));
  expect(fs.existsSync(victim('four'))).toBe(true);
  expect(env.host.store.approvals.history().find((r) => r.code === code)).toMatchObject({
    status: 'expired',
    decidedBy: 'timeout',
  });

  // What a crash leaves behind: a pending request no live host is waiting on.
  const left = env.host.store.approvals.create({
    groupFolder: 'family',
    chatJid: 'local:family',
    kind: 'bash',
    detail: 'rm -rf /workspace/group',
    reason: '',
    timeoutMs: 3_600_000,
  });
  await env.restart({ NANOCLAW_APPROVAL_TIMEOUT_MS: '60000' });
  expect(env.host.store.approvals.get(left.id)).toMatchObject({ status: 'denied', decidedBy: 'host' });
  await ownerSays('local:main', `yes ${left.code}`);
  await untilReply('local:main', new RegExp(`No request waits for code ${left.code}`));
  expect(env.host.store.approvals.get(left.id)!.status).toBe('denied');
}, 120_000);

test('groups: with "ask", register_group from the main chat waits for the owner, and "no" leaves the chat unregistered', async () => {
  const patch = await env.api('/api/groups/local%3Amain', {
    method: 'PATCH',
    json: { sandbox: { approvals: { policy: { groups: 'ask' } } } },
  });
  expect(patch.status).toBe(200);
  const before = asks(await env.messages('local:main')).length;
  await ownerSays('local:main', 'REGISTER_KIDS');
  const { text, code } = await approvalRequest(before, 'register_group');
  expect(text).toContain('register_group jid=local:kids name=Kids folder=kids');
  await ownerSays('local:main', `no ${code}`);
  await untilReply('local:main', /^Tool said:.*The owner declined/s);
  expect(env.host.store.groups.get('local:kids')).toBeUndefined();
}, 120_000);

test('cross_chat on "deny": a task for another group is refused at once, with words the agent can act on', async () => {
  const patch = await env.api('/api/groups/local%3Amain', {
    method: 'PATCH',
    json: { sandbox: { approvals: { policy: { cross_chat: 'deny' } } } },
  });
  expect(patch.status).toBe(200);
  const before = asks(await env.messages('local:main')).length;
  await ownerSays('local:main', 'SCHEDULE_FOR_FAMILY');
  const said = await untilReply('local:main', /^Tool said:.*approvals\.policy\.cross_chat is "deny"/s);
  expect(said).toContain('Do not try it another way');
  expect(env.host.store.tasks.listByGroup('family')).toHaveLength(0);
  expect(asks(await env.messages('local:main'))).toHaveLength(before);
}, 120_000);

/** Runs the built `nanoclaw` command against this host. */
function nanoclaw(args: string[]): Promise<{ code: number | null; out: string }> {
  fs.writeFileSync(path.join(env.home, 'data', 'host.json'), JSON.stringify({ url: env.host.url, pid: process.pid }));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve('dist/src/cli.js'), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), NANOCLAW_HOME: env.home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('dashboard API and CLI: pending and past requests with who decided, an answer by the code the chat showed, and group settings from `nanoclaw groups`', async () => {
  const set = await nanoclaw(['groups', 'approvals', 'family', 'mount_write=deny', '--bash', 'rm,git push']);
  expect(set.code).toBe(0);
  expect(set.out).toMatch(/mount_write\s+deny/);
  expect(set.out).toContain('bash patterns: rm, git push');
  expect(env.host.store.groups.get('local:family')!.sandbox.approvals).toMatchObject({
    policy: { bash: 'ask', mount_write: 'deny' },
  });

  plant('five');
  const before = asks(await env.messages('local:main')).length;
  await env.send('local:family', 'please RM_five');
  const { code } = await approvalRequest(before, 'victim-five');
  const listed = await nanoclaw(['approvals']);
  expect(listed.out).toContain('Waiting for you (1):');
  expect(listed.out).toContain('rm /workspace/group/victim-five.txt');
  expect(listed.out).toMatch(/approved by owner in local:main/);
  const id = env.host.store.approvals.pendingByCode(code)!.id;

  const unauth = await fetch(`${env.host.url}/api/approvals/${id}/yes`, { method: 'POST' });
  expect(unauth.status).toBe(401);
  // The code the chat said ("answer yes TE92") works in the CLI as the id does.
  const yes = await nanoclaw(['approvals', 'yes', code]);
  expect(yes.out, JSON.stringify(env.host.store.approvals.history().slice(0, 4), null, 1)).toContain(
    `Approved ${code}, this once.`,
  );
  await env.untilChat('local:family', () => !fs.existsSync(victim('five')), 60_000, 'the approved rm');
  const again = await env.api(`/api/approvals/${id}/no`, { method: 'POST', json: { by: 'dashboard' } });
  expect(again.status).toBe(409);
  const body = (await (await env.api('/api/approvals')).json()) as any;
  expect(body.history.find((r: any) => r.id === id)).toMatchObject({ status: 'approved', decidedBy: 'owner via cli' });
}, 120_000);

test('dashboard: the pending request is shown whole with its buttons; Deny decides it as the owner', async () => {
  const browser = await openBrowser();
  try {
    plant('six');
    const before = asks(await env.messages('local:main')).length;
    await env.send('local:family', 'please RM_six');
    const { code } = await approvalRequest(before, 'victim-six');
    const { page } = browser;
    await page.goto(`${env.host.url}/#token=${encodeURIComponent(env.host.token)}`);
    await page.click('#tabs a[data-page="approvals"]');
    const card = page.locator('#approvals-pending article.approval', { hasText: `code ${code}` });
    await card.waitFor();
    expect(await card.locator('pre.detail').textContent()).toBe('rm /workspace/group/victim-six.txt');
    await card.getByRole('button', { name: 'Deny' }).click();
    await page.locator('#approvals-history td', { hasText: 'owner via dashboard' }).first().waitFor();
    await untilReply('local:family', /Tool said:.*victim-six|The owner declined/s);
    expect(env.host.store.approvals.history().find((r) => r.code === code)).toMatchObject({
      status: 'denied',
      decidedBy: 'owner via dashboard',
    });
    expect(fs.existsSync(victim('six'))).toBe(true);

    // Groups → Settings: the kinds and Bash words are edited there; the "always" rules are kept.
    await page.click('#tabs a[data-page="groups"]');
    const group = page.locator('article.group[data-jid="local:family"]');
    await group.locator('button.settings').click();
    await group.locator('select[name=approval-network]').selectOption('deny');
    await group.locator('input[name=bashPatterns]').fill('rm, curl');
    await group.locator('form.settings button[type=submit]').click();
    await expect.poll(() => page.textContent('#groups-notice')).toContain('Saved settings for Family');
    const saved = env.host.store.groups.get('local:family')!.sandbox.approvals!;
    expect(saved.policy).toMatchObject({ network: 'deny', bash: 'ask', mount_write: 'deny' });
    expect(saved.bashPatterns).toEqual(['rm', 'curl']);
    expect(saved.allow).toEqual([{ kind: 'bash', detail: 'rm /workspace/group/victim-three.txt' }]);
  } finally {
    await browser.close();
  }
}, 120_000);
