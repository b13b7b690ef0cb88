// The first hour with the built `nanoclaw` command, run as a user runs it: a
// broken TZ or home is refused at once with the fix, one host per home, and a
// healthy bwrap install shows no warnings about runtimes it does not use.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeHome, TEST_KEY } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';

const CLI = path.resolve('dist/src/cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `nanoclaw …` with only the environment given, from `cwd` (default: a
 * folder that is not the clone). A command that should have been refused but
 * keeps running is stopped after 30 s and reads as exit code null.
 */
function nanoclaw(
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string; bin?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? CLI, ...args], {
      cwd: opts.cwd ?? os.tmpdir(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

const homes: string[] = [];
function freshHome(): string {
  const h = makeHome('nanoclaw-first-hour-');
  homes.push(h);
  return h;
}

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json).`);
});
afterAll(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

describe('refused at once, before anything runs', () => {
  test('a TZ that is not a time zone: start, status and doctor say so with the fix', async () => {
    const home = freshHome();
    const env = { NANOCLAW_HOME: home, TZ: 'Mars/Olympus', NANOCLAW_HTTP_PORT: '0', NANOCLAW_RUNTIME: 'bwrap' };
    const fix = 'TZ=Mars/Olympus is not a time zone; use one like Europe/Berlin (see timedatectl list-timezones).';
    for (const cmd of ['start', 'status', 'doctor']) {
      const res = await nanoclaw([cmd], env);
      expect(res.stderr).toContain(fix);
      expect(res.code).toBe(2);
    }
    expect(fs.existsSync(path.join(home, 'data'))).toBe(false);
  });

  test('a home that cannot hold anything: a path under /proc, or a file', async () => {
    const res = await nanoclaw(['start'], { NANOCLAW_HOME: '/proc/nope', NANOCLAW_HTTP_PORT: '0' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('NANOCLAW_HOME=/proc/nope cannot be used');
    expect(res.stderr).toContain('/proc does not allow new folders');
    const file = path.join(freshHome(), 'not-a-folder');
    fs.writeFileSync(file, 'x');
    const onFile = await nanoclaw(['status'], { NANOCLAW_HOME: file });
    expect(onFile.code).toBe(2);
    expect(onFile.stderr).toContain('it is a file, not a folder');
  });
});

describe('a host on bwrap, picked automatically', () => {
  let home: string;
  let host: HostProcess;
  const env = () => ({
    NANOCLAW_HOME: home,
    NANOCLAW_CONFIG_DIR: path.join(home, 'cfg'),
    NANOCLAW_RUNTIME: 'auto',
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
  });

  beforeAll(async () => {
    home = freshHome();
    // This home's agent image is never built, so docker and podman (installed or not) are passed over.
    host = await startHostProcess(home, env());
  }, 120_000);
  afterAll(async () => {
    await host?.kill('SIGTERM');
  });

  test('status exits 0 and says nothing about docker or podman', async () => {
    expect(host.output()).not.toMatch(/docker|podman/i);
    const res = await nanoclaw(['status'], { NANOCLAW_HOME: home });
    expect(res.stdout).toMatch(/Sandbox\s+bwrap/);
    expect(res.stdout).not.toMatch(/docker|podman|Needs attention/i);
    expect(res.code).toBe(0);
  });

  test('doctor names the runtime in use; doctor --all says why the others were passed over', async () => {
    const plain = await nanoclaw(['doctor'], env());
    expect(plain.stdout).toMatch(/✓ Sandbox\s+bwrap/);
    expect(plain.stdout).not.toMatch(/✗ docker/);
    expect(plain.stdout).toContain('nanoclaw doctor --all');
    const all = await nanoclaw(['doctor', '--all'], env());
    expect(all.stdout).toMatch(/✗ docker: /);
    expect(all.stdout).toMatch(/✗ podman: /);
    expect(all.stdout).toMatch(/✓ bwrap: /);
  }, 60_000);

  test('a second start on the same home refuses, names the first, and leaves data/host.json alone', async () => {
    const hostJson = path.join(home, 'data', 'host.json');
    const before = fs.readFileSync(hostJson, 'utf8');
    const mtime = fs.statSync(hostJson).mtimeMs;
    const second = await nanoclaw(['start'], { ...env(), NANOCLAW_HTTP_PORT: '0' });
    expect(second.stderr).toContain(
      `NanoClaw is already running for this home (pid ${host.child.pid}, ${host.url}); stop it first`,
    );
    expect(second.code).toBe(1);
    expect(fs.readFileSync(hostJson, 'utf8')).toBe(before);
    expect(fs.statSync(hostJson).mtimeMs).toBe(mtime);
    const status = await nanoclaw(['status', '--json'], { NANOCLAW_HOME: home });
    expect(JSON.parse(status.stdout).status.pid).toBe(host.child.pid);
  });

  test('the command works from any folder through a link to it, against NANOCLAW_HOME', async () => {
    // What `npm link` (or `npm install -g .`) puts on the PATH: a symlink to dist/src/cli.js.
    const bin = path.join(freshHome(), 'nanoclaw');
    fs.symlinkSync(CLI, bin);
    const res = await nanoclaw(['status'], { NANOCLAW_HOME: home }, { bin, cwd: os.tmpdir() });
    expect(res.stdout).toContain('is running');
    expect(res.code).toBe(0);
  });

  test('after the host is killed outright, the next start is not blocked by its lock', async () => {
    await host.kill('SIGKILL');
    host = await startHostProcess(home, env());
    const res = await nanoclaw(['status', '--json'], { NANOCLAW_HOME: home });
    expect(JSON.parse(res.stdout).status.pid).toBe(host.child.pid);
  }, 120_000);
});
