// A host folder on mount_write = ask is not writable from inside the sandbox,
// on every runtime under test: whatever a command does (a path spelled through
// a variable, a link, a rename, a deletion, a mode change), the host folder
// stays as it was until the owner approves the change set the host computed,
// and a no puts the sandbox's copy back to the host's state.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RUNTIMES, startBashEnv, type BashEnv } from './support.js';

describe.each(RUNTIMES)('staged host folder on %s', (runtime) => {
  let env: BashEnv;
  let shared: string;
  let jid: string;
  const asks = (ms: any[]) => ms.filter((m) => m.fromAssistant && /^Approval needed/.test(m.text));
  const hostState = () =>
    fs
      .readdirSync(shared)
      .sort()
      .map((n) => {
        const st = fs.lstatSync(path.join(shared, n));
        const what = st.isSymbolicLink()
          ? `-> ${fs.readlinkSync(path.join(shared, n))}`
          : fs.readFileSync(path.join(shared, n), 'utf8');
        return `${n} ${(st.mode & 0o777).toString(8)} ${what}`;
      });

  async function request(seen: number): Promise<{ code: string; detail: string }> {
    const ms = await env.untilChat('local:main', (m) => asks(m).length > seen, 90_000, 'the change-set request');
    const code = /code ([A-Z2-9]{4})/.exec(asks(ms)[seen].text)![1];
    return { code, detail: env.host.store.approvals.pendingByCode(code)!.detail };
  }
  /** The runner's hook tells the model the owner's answer (after the tool's result). */
  const toldModel = (words: string) => env.fake.requests.some((r) => r.text.includes(words));
  async function ownerSays(text: string): Promise<void> {
    const res = await env.api('/api/chats/local%3Amain/messages', {
      method: 'POST',
      json: { sender: 'local-user', text },
    });
    expect(res.status).toBe(202);
  }

  beforeAll(async () => {
    // Tests here answer no and then ask again: the wait a chat gets after a no would hold the next request.
    env = await startBashEnv(runtime, { NANOCLAW_APPROVAL_TIMEOUT_MS: '90000', NANOCLAW_APPROVAL_COOLDOWN_MS: '0' });
    shared = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-shared-'));
    fs.chmodSync(shared, 0o777);
    fs.writeFileSync(path.join(shared, 'keep.txt'), 'keep\n');
    fs.writeFileSync(path.join(shared, 'old.txt'), 'old\n');
    fs.writeFileSync(path.join(shared, 'move.txt'), 'move me\n');
    for (const f of fs.readdirSync(shared)) fs.chmodSync(path.join(shared, f), 0o666);
    fs.mkdirSync(env.config.configDir, { recursive: true });
    fs.writeFileSync(
      path.join(env.config.configDir, 'mount-allowlist.json'),
      JSON.stringify({ allowedRoots: [{ path: shared, allowReadWrite: true }], nonMainReadOnly: false }),
    );
    // mount_write is "ask" by default.
    jid = env.addGroup('gamma', { extraMounts: [{ hostPath: shared, containerPath: 'share', readonly: false }] });
  });
  afterAll(async () => {
    await env?.close();
    if (shared) fs.rmSync(shared, { recursive: true, force: true });
  });

  // No command names /workspace/extra: the old word check would not have noticed any of it.
  const ATTACK = [
    'd=/workspace/ex; s=${d}tra/share',
    'echo new > $s/new.txt',
    'echo changed > $s/keep.txt',
    'rm $s/old.txt',
    'mv $s/move.txt $s/moved.txt',
    'chmod 755 $s/moved.txt',
    'ln -s /etc/passwd $s/passwd-link',
    'ln -s keep.txt $s/inner-link',
    'ln $s/keep.txt $s/hard.txt',
    'echo "inside: $(cat $s/keep.txt)"',
  ].join('; ');

  test('nothing reaches the host folder before the yes; a no restores the copy inside', async () => {
    const before = hostState();
    const seen = asks(await env.messages('local:main')).length;
    const reply = env.bash(jid, ATTACK);
    const { code, detail } = await request(seen);
    expect(hostState()).toEqual(before);
    expect(detail).toContain('created /workspace/extra/share/new.txt');
    expect(detail).toContain('changed /workspace/extra/share/keep.txt');
    expect(detail).toContain('deleted /workspace/extra/share/old.txt');
    expect(detail).toContain('renamed /workspace/extra/share/move.txt → /workspace/extra/share/moved.txt');
    expect(detail).toMatch(/refused \(it leads outside the folder.*passwd-link → \/etc\/passwd/);
    expect(detail).toContain('created link /workspace/extra/share/inner-link → keep.txt');
    expect(detail).toContain('hard link');
    await ownerSays(`no ${code}`);
    const said = await reply;
    expect(said).toContain('inside: changed');
    expect(toldModel('discarded')).toBe(true);
    expect(hostState()).toEqual(before);
    const after = await env.bash(jid, "ls /workspace/extra/share; sed 's/^/content=/' /workspace/extra/share/keep.txt");
    expect(after).toContain('old.txt');
    expect(after).not.toContain('new.txt');
    expect(after).toContain('content=keep');
  });

  test('a yes applies exactly the set: links stay links, the one leading out is not made', async () => {
    const seen = asks(await env.messages('local:main')).length;
    const reply = env.bash(jid, ATTACK);
    const { code } = await request(seen);
    await ownerSays(`yes ${code}`);
    expect(await reply).toContain('RESULT:');
    expect(toldModel('your changes were applied')).toBe(true);
    expect(fs.readFileSync(path.join(shared, 'new.txt'), 'utf8')).toBe('new\n');
    expect(fs.readFileSync(path.join(shared, 'keep.txt'), 'utf8')).toBe('changed\n');
    expect(fs.existsSync(path.join(shared, 'old.txt'))).toBe(false);
    expect(fs.existsSync(path.join(shared, 'move.txt'))).toBe(false);
    expect(fs.statSync(path.join(shared, 'moved.txt')).mode & 0o777).toBe(0o755);
    expect(fs.readlinkSync(path.join(shared, 'inner-link'))).toBe('keep.txt');
    expect(fs.existsSync(path.join(shared, 'passwd-link'))).toBe(false);
    // The hard link arrives as its own copy: changing one name on the host does not change the other.
    expect(fs.lstatSync(path.join(shared, 'hard.txt')).nlink).toBe(1);
    expect(fs.readFileSync(path.join(shared, 'hard.txt'), 'utf8')).toBe('changed\n');
  });
});
