// `nanoclaw chat` against a running host: piped input gets the answer printed,
// `--group` picks another local group, and terminal control sequences in a
// reply never reach the user's terminal.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { projectRoot } from '../../src/config/project-root.js';
import { lastUserText, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { makeHome, TEST_KEY } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';

const home = makeHome();
let fake: FakeAnthropic;
let host: HostProcess;

beforeAll(async () => {
  fake = await startFakeAnthropic((req) => {
    const t = lastUserText(req);
    if (t.includes('clear my screen')) return { text: 'Sure\u001b[2J\u001b]0;pwned\u0007 done' };
    if (t.includes('family question')) return { text: 'Family answer.' };
    return { text: 'Hello from the terminal test.' };
  });
  host = await startHostProcess(home, { ANTHROPIC_API_KEY: TEST_KEY, ANTHROPIC_BASE_URL: fake.url, NANOCLAW_RUNTIME: 'bwrap' });
  const res = await host.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:family', name: 'Family', folder: 'family', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await host?.kill('SIGTERM');
  await fake?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

function chat(input: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [path.join(projectRoot(), 'dist/src/cli.js'), 'chat', ...args],
      {
        env: { PATH: process.env.PATH, NANOCLAW_HOME: home },
        timeout: 120_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

test('piped input prints the answer from the main group', async () => {
  const r = await chat('hello there\n');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Andy: Hello from the terminal test.');
});

test('--group talks to another local group; an unknown group is a clear error', async () => {
  const r = await chat('family question\n', ['--group', 'family']);
  expect(r.stdout).toContain('Andy: Family answer.');
  const bad = await chat('x\n', ['--group', 'nope']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/No group with folder "nope"/);
});

test('control sequences in a reply are not printed', async () => {
  const r = await chat('please clear my screen\n');
  expect(r.stdout).toContain('Andy: Sure[2J]0;pwned done');
  expect(r.stdout).not.toMatch(/[\u001b\u0007]/);
});
