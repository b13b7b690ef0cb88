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
    if (t.includes('history question')) return { text: 'History answer.' };
    if (t.includes('my own question')) return { text: 'Answer to you.' };
    if (t.includes('bob question')) return { text: 'Answer to Bob.' };
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
  for (const folder of ['hist', 'live'])
    expect(
      (
        await host.api('/api/groups', {
          method: 'POST',
          json: { jid: `local:${folder}`, name: folder, folder, requiresTrigger: false },
        })
      ).status,
    ).toBe(201);
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
  raw(): string;
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
    raw: () => raw,
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

/** Posts to a local chat through the API, as the dashboard or another program would. */
async function post(jid: string, sender: string, senderName: string, text: string): Promise<void> {
  const res = await host.api(`/api/chats/${encodeURIComponent(jid)}/messages`, {
    method: 'POST',
    json: { sender, senderName, text },
  });
  expect(res.status).toBe(202);
}

async function storedCount(jid: string): Promise<number> {
  const res = await host.api(`/api/chats/${encodeURIComponent(jid)}/messages`);
  return ((await res.json()) as { messages: unknown[] }).messages.length;
}

const count = (screen: string, s: string) => screen.split(s).length - 1;

test('the interactive chat opens with the last messages, each with its author and time; piped output stays the answers alone', async () => {
  await post('local:hist', 'dashboard', 'You', 'a history question');
  await until(async () => (await storedCount('local:hist')) === 2, 60_000, 'the question and its answer stored');
  const t = terminal(['--group', 'hist']);
  await t.waitFor(
    new RegExp(`${TIME} You: a history question\n${TIME} Andy: History answer\\.\nChatting with Andy in "hist"`),
    'both earlier messages with their authors, above the greeting',
  );
  await t.waitFor(/Ctrl-D to leave\.\n> /, 'the prompt');
  t.type('\u0004');
  expect(await t.exited).toBe(0);
  const piped = await chat('another history question\n', ['--group', 'hist']);
  expect(piped.code).toBe(0);
  expect(piped.stdout).toBe('Andy: History answer.\n');
});

test('the open chat shows every message as it arrives, once, marked with who wrote it', async () => {
  const t = terminal(['--group', 'live']);
  await t.waitFor(/Ctrl-D to leave\.\n> /, 'the prompt');
  t.type('half typed');
  await t.waitFor(/> half typed$/, 'the line being typed');
  await post('local:live', 'bob', 'Bob', 'a bob question');
  await t.waitFor(
    new RegExp(`${TIME} Bob: a bob question\n> half typed`),
    "another member's message, with the name, above the line being typed",
  );
  t.type('\u0015');
  await t.waitFor(new RegExp(`${TIME} Andy: Answer to Bob\\.\n`), 'the answer to it');
  await post('local:live', 'dashboard', 'You', 'from the dashboard');
  await t.waitFor(new RegExp(`${TIME} You: from the dashboard\n`), "the owner's message from the dashboard");
  await t.waitFor(new RegExp(`${TIME} Andy: Hello from the terminal test\\.\n`), 'the answer to it');
  t.type('my own question\r');
  await t.waitFor(new RegExp(`${TIME} Andy: Answer to you\\.\n`), 'the answer to the typed line');
  // The stream keeps order: once a later message shows, any second copy of those before it would have too.
  await post('local:live', 'carol', 'Carol', 'that is all');
  await t.waitFor(new RegExp(`${TIME} Carol: that is all\n`), 'a last message');
  const screen = t.screen();
  for (const line of [
    'Bob: a bob question',
    'Andy: Answer to Bob.',
    'You: from the dashboard',
    'You: my own question',
    'Andy: Answer to you.',
  ])
    expect(count(screen, line), line).toBe(1);
  t.type('\u0004');
  expect(await t.exited).toBe(0);
});

test("a sender's name cannot move the cursor or change colours", async () => {
  await post('local:club', 'mallory', 'Eve\u001b[31m\u001b]0;pwned\u0007\u001b[2J', 'hello all');
  const t = terminal(['--group', 'club']);
  await t.waitFor(
    /Eve\[31m\]0;pwned\[2J: hello all\n/,
    'the earlier message, its name shown without its control characters',
  );
  await post('local:club', 'mallory', '\u001b[1AMallory\u001b[0m', 'me again');
  await t.waitFor(/\[1AMallory\[0m: me again\n/, 'the live message, likewise');
  const raw = t.raw();
  for (const seq of ['\u001b[31m', '\u001b]0;', '\u0007', '\u001b[2J', '\u001b[1AMallory', '\u001b[0m'])
    expect(raw.includes(seq), JSON.stringify(seq)).toBe(false);
  t.type('\u0004');
  expect(await t.exited).toBe(0);
});

test('a member named like the assistant or like you is marked as a member', async () => {
  await post('local:club', 'mallory', 'Andy', 'I am the assistant, trust me');
  const t = terminal(['--group', 'club']);
  await t.waitFor(
    new RegExp(`${TIME} Andy \\(member\\): I am the assistant, trust me\n`),
    'the assistant lookalike, marked',
  );
  await post('local:club', 'mallory', 'Y\u200bou', 'this is the owner speaking');
  await t.waitFor(new RegExp(`${TIME} You \\(member\\): this is the owner speaking\n`), 'the owner lookalike, marked');
  t.type('\u0004');
  expect(await t.exited).toBe(0);
});
