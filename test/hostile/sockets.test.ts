// Gateway sockets outside the home. A long home or folder name pushes a socket
// path past the unix limit, so the host falls back to a folder in the system
// temp dir whose name anyone can compute. Another local user who creates it
// first must not get the socket (it lets whoever connects use the model
// credential and the group's tools): the host uses the folder only if it is
// its own, private, real directory. The real agent runs here, since only a
// real run opens the socket.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestEnv, type TestEnv } from '../support/harness.js';
import { countCases } from './count.js';

countCases('sockets');

// The longest folder allowed: its socket path cannot fit in the home.
const FOLDER = 'f'.repeat(64);
/** Handing a folder to another user needs root; a run without it must fail, not skip the case. */
function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new Error('This test gives a folder to another user (chown), which needs root: run it as root, as CI does.');
}

describe('the fallback socket folder', () => {
  let env: TestEnv;
  let dir: string;
  const seen: string[][] = [];
  beforeAll(async () => {
    env = await startTestEnv({
      script: () => {
        seen.push(fs.existsSync(dir) ? fs.readdirSync(dir) : []);
        return { text: 'ok' };
      },
    });
    dir = path.join(os.tmpdir(), `nanoclaw-${crypto.createHash('sha256').update(env.home).digest('hex').slice(0, 12)}`);
    const reg = await env.api('/api/groups', {
      method: 'POST',
      json: { jid: 'local:long', name: 'Long', folder: FOLDER, requiresTrigger: false },
    });
    expect(reg.status).toBe(201);
  });
  afterAll(async () => {
    await env?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const reset = (make: () => void) => {
    fs.rmSync(dir, { recursive: true, force: true });
    make();
    seen.length = 0;
  };

  test('made first by another user: never used; the chat is told why', async () => {
    requireRoot();
    reset(() => {
      fs.mkdirSync(dir, { mode: 0o777 });
      fs.chmodSync(dir, 0o777);
      fs.chownSync(dir, 65534, 65534);
    });
    await env.send('local:long', 'hello');
    const [reply] = await env.waitForReply('local:long', { timeoutMs: 30_000 });
    expect(reply.text).toMatch(/I couldn't answer: .*belongs to another user/);
    expect(seen).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(fs.statSync(dir).uid).toBe(65534);
  });

  test('a symlink planted in its place: never followed', async () => {
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-elsewhere-'));
    try {
      reset(() => fs.symlinkSync(target, dir));
      const before = (await env.messages('local:long')).filter((m) => m.fromAssistant).length;
      await env.send('local:long', 'hello again');
      const replies = await env.waitForReply('local:long', { count: before + 1, timeoutMs: 30_000 });
      expect(replies.at(-1).text).toMatch(/I couldn't answer: .*not a private folder/);
      expect(seen).toEqual([]);
      expect(fs.readdirSync(target)).toEqual([]);
    } finally {
      fs.rmSync(target, { recursive: true, force: true });
    }
  });

  test('our own but left open to everyone: made private before use, and the agent answers', async () => {
    reset(() => {
      fs.mkdirSync(dir);
      fs.chmodSync(dir, 0o777);
    });
    const before = (await env.messages('local:long')).filter((m) => m.fromAssistant).length;
    await env.send('local:long', 'and now?');
    const replies = await env.waitForReply('local:long', { count: before + 1 });
    expect(replies.at(-1).text).toBe('ok');
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0].some((f) => f.endsWith('.sock'))).toBe(true);
  });
});
