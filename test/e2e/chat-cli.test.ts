// `nanoclaw chat` against a running host: piped input gets the answer printed,
// `--group` picks another local group, and terminal control sequences in a
// reply never reach the user's terminal. The interactive chat runs in a real
// pseudo-terminal (util-linux `script`), as a person at a terminal sees it.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { projectRoot } from '../../src/core/config/project-root.js';
import { lastUserText, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { makeHome, TEST_KEY, until } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';

const home = makeHome();
/** A terminal where "npm link" was never run: no `nanoclaw` command. */
const PATH_WITHOUT_NANOCLAW = (process.env.PATH ?? '/usr/bin:/bin')
  .split(path.delimiter)
  .filter((dir) => dir && !fs.existsSync(path.join(dir, 'nanoclaw')))
  .join(path.delimiter);
let fake: FakeAnthropic;
let host: HostProcess;
let releaseSlow: () => void = () => {};
const slowHeld = new Promise<void>((r) => {
  releaseSlow = r;
});

beforeAll(async () => {
  fake = await startFakeAnthropic(async (req) => {
    const t = lastUserText(req);
    if (t.includes('slow question')) {
      await slowHeld;
      return { text: 'Slow answer.' };
    }
    if (t.includes('clear my screen')) return { text: 'Sure\u001b[2J\u001b]0;pwned\u0007 done' };
    if (t.includes('family question')) return { text: 'Family answer.' };
    return { text: 'Hello from the terminal test.' };
  });
  host = await startHostProcess(home, {
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: fake.url,
    NANOCLAW_RUNTIME: 'bwrap',
    PATH: PATH_WITHOUT_NANOCLAW,
  });
  const res = await host.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:family', name: 'Family', folder: 'family', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
  const club = await host.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:club', name: 'Club', folder: 'club', requiresTrigger: true },
  });
  expect(club.status).toBe(201);
});
afterAll(async () => {
  releaseSlow();
  await host?.kill('SIGTERM');
  await fake?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const cli = path.join(projectRoot(), 'dist/src/cli.js');

function chat(
  input: string,
  args: string[] = [],
  opts: { home?: string; timeout?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cli, 'chat', ...args],
      {
        env: { PATH: process.env.PATH, NANOCLAW_HOME: opts.home ?? home },
        timeout: opts.timeout ?? 120_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

test('the command `start` prints for the chat works as printed in a new terminal, in another folder', async () => {
  const command = /second terminal and run(?: \(or use the dashboard\):\n)?\s+(\S.*? chat)\b/.exec(host.output())?.[1];
  expect(command).toBeDefined();
  const elsewhere = makeHome('nanoclaw-elsewhere-');
  try {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        'sh',
        ['-c', command!],
        { cwd: elsewhere, env: { PATH: PATH_WITHOUT_NANOCLAW }, timeout: 120_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin!.end('hello from a new terminal\n');
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Andy: Hello from the terminal test.');
  } finally {
    fs.rmSync(elsewhere, { recursive: true, force: true });
  }
});

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

/** A local time as the system's locale writes it: "14:05", "2:05 PM". */
const TIME = '\\d\\d?:\\d\\d(?: [AP]M)?';

/** The screen text without colours and cursor moves (what a person reads, roughly). */
function readable(raw: string): string {
  return raw.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

interface Terminal {
  screen(): string;
  type(s: string): void;
  waitFor(pattern: RegExp, what: string): Promise<void>;
  exited: Promise<number>;
}

/** `nanoclaw chat` in a pseudo-terminal: `script` gives it a tty and relays what is typed on its stdin. */
function terminal(args: string[] = [], chatHome = home): Terminal {
  const command = [process.execPath, cli, 'chat', ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env.PATH, NANOCLAW_HOME: chatHome, TERM: 'xterm', NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  child.stdout.on('data', (d) => (raw += d));
  child.stderr.on('data', (d) => (raw += d));
  const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? 1)));
  const t: Terminal = {
    screen: () => readable(raw),
    type: (s) => child.stdin.write(s),
    async waitFor(pattern, what) {
      await until(() => pattern.test(t.screen()), 60_000, what).catch((err: Error) => {
        throw new Error(`${err.message}; the screen shows:\n${t.screen()}`);
      });
    },
    exited,
  };
  return t;
}

test('the interactive chat shows the prompt, what you typed, "typing…" while the agent works, and the reply with name and time', async () => {
  const t = terminal();
  await t.waitFor(/Ctrl-D to leave\.\n> /, 'the greeting and the prompt');
  t.type('a slow question\r');
  await t.waitFor(new RegExp(`${TIME} You: a slow question\n`), 'your line, with the time');
  await t.waitFor(/Andy is typing…/, 'the typing line while the model holds its answer');
  releaseSlow();
  await t.waitFor(
    new RegExp(`${TIME} Andy: Slow answer\\.\n> `),
    "the reply with the assistant's name and a time, then the prompt again",
  );
  t.type('\u0004');
  expect(await t.exited).toBe(0);
});

test('a piped message that does not address the assistant in a trigger-only group is explained at once', async () => {
  // The bound is far below the agent timeout a wait for an answer would use.
  const r = await chat('just chatting\n', ['--group', 'club'], { timeout: 20_000 });
  expect(r.stderr).toContain('Club answers only messages that start with @Andy; yours was kept for later');
  expect(r.code).toBe(3);
  const addressed = await chat('@Andy family question\n', ['--group', 'club']);
  expect(addressed.code).toBe(0);
  expect(addressed.stdout).toContain('Andy: Family answer.');
});

test('the chat says clearly when NanoClaw is not running, and when it stops mid-chat', async () => {
  const other = makeHome();
  try {
    const second = await startHostProcess(other, {
      ANTHROPIC_API_KEY: TEST_KEY,
      ANTHROPIC_BASE_URL: fake.url,
      NANOCLAW_RUNTIME: 'bwrap',
    });
    const t = terminal([], other);
    await t.waitFor(/Ctrl-D to leave\.\n> /, 'the prompt');
    await second.kill('SIGTERM');
    await t.waitFor(/NanoClaw stopped/, 'word that the host went away');
    expect(await t.exited).not.toBe(0);
    const r = await chat('hello\n', [], { home: other, timeout: 20_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /NanoClaw is not running: nothing answers at http:\/\/127\.0\.0\.1:\d+\.\nStart it with "npm start" in another terminal/,
    );
  } finally {
    fs.rmSync(other, { recursive: true, force: true });
  }
});
