// "Ask me first" on a host folder judges the write, not the words: with
// mount_write = ask the sandbox writes into a staging copy, and the owner is
// asked once for the change set that actually happened (however it was spelled:
// a link, cd, a variable, python, a script that changed after it was approved).
// Real host, real bwrap sandbox, real Agent SDK, fake model.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { familyWithHostFolder, startTestEnv, type TestEnv } from '../support/harness.js';

let env: TestEnv;
let notes: string;
const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

// Spelled so that no command names the host folder's path.
const SNEAKY = [
  'cd /workspace && cd ex""tra/notes && echo via-cd > cd.txt',
  'd=/workspace/ex; echo via-var > ${d}tra/notes/var.txt',
  `python3 -c "open('/workspace/e'+'xtra/notes/py.txt','w').write('via-python')"`,
].join('; ');

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: `Tool said: ${text}\n${hookContext(req)}` };
  if (text.includes('WRITE_VIA_LINK'))
    return {
      toolUse: {
        name: 'Write',
        input: { file_path: '/workspace/group/lnk/x.txt', content: 'written through a link\n' },
      },
    };
  if (text.includes('SNEAKY_BASH'))
    return { toolUse: { name: 'Bash', input: { command: SNEAKY, description: 'sneaky' } } };
  if (text.includes('RUN_SCRIPT'))
    return {
      toolUse: { name: 'Bash', input: { command: 'bash /workspace/group/x.sh', description: 'run my script' } },
    };
  // Bash: the Write tool refuses to overwrite a file it has not read.
  if (text.includes('EDIT_SHARED'))
    return {
      toolUse: { name: 'Bash', input: { command: "printf 'agent version\\n' > /workspace/extra/notes/shared.txt" } },
    };
  return { text: 'OK' };
}

/** What the runner's PostToolUse hook told the model (the CLI sends it as `system` messages after the result). */
function hookContext(req: RecordedRequest): string {
  const msgs: any[] = Array.isArray(req.body?.messages) ? req.body.messages : [];
  const tail: any[] = [];
  for (let i = msgs.length - 1; i >= 0 && msgs[i].role === 'system'; i--) tail.unshift(msgs[i]);
  return tail
    .flatMap((m) => (Array.isArray(m.content) ? m.content.map((c: any) => String(c?.text ?? '')) : [String(m.content)]))
    .join('\n');
}

async function ownerSays(text: string): Promise<void> {
  const res = await env.api('/api/chats/local%3Amain/messages', {
    method: 'POST',
    json: { sender: 'local-user', text },
  });
  expect(res.status).toBe(202);
}
const asks = (ms: any[]) => ms.filter((m) => m.fromAssistant && /^Approval needed/.test(m.text));
const replies = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => m.text as string);
const askCount = async () => asks(await env.messages('local:main')).length;

/** The next approval request after the first `seen`, with its code and the whole change set as approved. */
async function nextRequest(seen: number, what: string): Promise<{ text: string; code: string; detail: string }> {
  const ms = await env.untilChat('local:main', (m) => asks(m).length > seen, 60_000, `an approval request for ${what}`);
  const text = asks(ms)[seen].text as string;
  const code = /code ([A-Z2-9]{4})/.exec(text)![1];
  return { text, code, detail: env.host.store.approvals.pendingByCode(code)!.detail };
}
async function untilReply(jid: string, pattern: RegExp): Promise<string> {
  const ms = await env.untilChat(
    jid,
    (m) => replies(m).some((t) => pattern.test(t)),
    90_000,
    `a reply matching ${pattern}`,
  );
  return replies(ms).find((t) => pattern.test(t))!;
}
const onHost = (name: string) => path.join(notes, name);
const groupDir = () => path.join(env.home, 'groups', 'family');

beforeAll(async () => {
  // Tests here answer no and then ask again: the wait a chat gets after a no would hold the next request.
  env = await startTestEnv({
    script,
    env: { NANOCLAW_APPROVAL_TIMEOUT_MS: '60000', NANOCLAW_APPROVAL_COOLDOWN_MS: '0' },
  });
  notes = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-staged-'));
  fs.writeFileSync(onHost('shared.txt'), 'original\n');
  // mount_write is "ask" by default; "bash" is asked about only for the word list.
  await familyWithHostFolder(env, notes, ['bash']);
}, 60_000);
afterAll(async () => {
  await env?.close();
  if (notes) fs.rmSync(notes, { recursive: true, force: true });
});

test('a Write through a symlink in the group folder is held: one request with the change set, applied on yes', async () => {
  // The agent's own folder may hold any link; this one leads into the host folder.
  fs.symlinkSync('/workspace/extra/notes', path.join(groupDir(), 'lnk'));
  const before = await askCount();
  await env.send('local:family', 'please WRITE_VIA_LINK');
  const { text, code, detail } = await nextRequest(before, 'the write through the link');
  expect(text).toContain('write to a host folder mounted into its sandbox');
  const content = 'written through a link\n';
  expect(detail).toContain('created /workspace/extra/notes/x.txt');
  expect(detail).toContain(`${content.length} bytes`);
  expect(detail).toContain(`sha256 ${sha(content)}`);
  expect(detail).toContain('+written through a link');
  expect(fs.existsSync(onHost('x.txt'))).toBe(false);

  await ownerSays(`yes ${code}`);
  const said = await untilReply('local:family', /^Tool said:/);
  expect(said).toContain('applied');
  expect(fs.readFileSync(onHost('x.txt'), 'utf8')).toBe(content);
  expect(await askCount()).toBe(before + 1);
}, 150_000);

test('Bash via cd, a variable and python: one request for all three files; no leaves the host folder as it was', async () => {
  const before = await askCount();
  const hostBefore = fs.readdirSync(notes).sort();
  await env.send('local:family', 'please SNEAKY_BASH');
  const { detail, code } = await nextRequest(before, 'the sneaky Bash');
  for (const [name, content] of [
    ['cd.txt', 'via-cd\n'],
    ['var.txt', 'via-var\n'],
    ['py.txt', 'via-python'],
  ]) {
    expect(detail).toContain(`created /workspace/extra/notes/${name}`);
    expect(detail).toContain(`sha256 ${sha(content)}`);
    expect(fs.existsSync(onHost(name))).toBe(false);
  }
  await ownerSays(`no ${code}`);
  const said = await untilReply('local:family', /^Tool said:.*declined/s);
  expect(said).toContain('discarded');
  expect(fs.readdirSync(notes).sort()).toEqual(hostBefore);
  expect(await askCount()).toBe(before + 1);
}, 150_000);

test('an approved `bash x.sh` that changed after the request: its real writes are asked about, not waved through', async () => {
  fs.writeFileSync(path.join(groupDir(), 'x.sh'), 'echo harmless\n');
  const before = await askCount();
  await env.send('local:family', 'please RUN_SCRIPT');
  const first = await nextRequest(before, 'bash x.sh');
  expect(first.detail).toBe('bash /workspace/group/x.sh');
  // Between the request and the yes, the script becomes something else.
  fs.writeFileSync(path.join(groupDir(), 'x.sh'), 'd=/workspace/ex; echo evil > ${d}tra/notes/evil.txt\n');
  await ownerSays(`yes ${first.code}`);
  const second = await nextRequest(before + 1, 'what the script wrote');
  expect(second.detail).toContain('created /workspace/extra/notes/evil.txt');
  expect(second.detail).toContain('+evil');
  expect(fs.existsSync(onHost('evil.txt'))).toBe(false);
  await ownerSays(`no ${second.code}`);
  await untilReply('local:family', /^Tool said:.*declined/s);
  expect(fs.existsSync(onHost('evil.txt'))).toBe(false);
}, 150_000);

test('yes, but the host file changed meanwhile: nothing is applied, and the agent and the owner are told', async () => {
  const before = await askCount();
  await env.send('local:family', 'please EDIT_SHARED');
  const { detail, code } = await nextRequest(before, 'the edit of shared.txt');
  expect(detail).toContain('changed /workspace/extra/notes/shared.txt');
  expect(detail).toContain('-original');
  expect(detail).toContain('+agent version');
  fs.writeFileSync(onHost('shared.txt'), 'edited on the host\n');
  await ownerSays(`yes ${code}`);
  const said = await untilReply('local:family', /^Tool said:.*shared\.txt/s);
  expect(said).toMatch(/not applied.*shared\.txt changed on the host/s);
  await untilReply('local:main', /^Family: Not applied: .*shared\.txt changed on the host/s);
  expect(fs.readFileSync(onHost('shared.txt'), 'utf8')).toBe('edited on the host\n');
}, 150_000);
