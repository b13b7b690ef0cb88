// Every way the README starts the host (`npm start`, the `nanoclaw` command, the service) runs it with the allocator
// setting that lets an idle host give start-up's memory back (GLIBC_TUNABLES in src/cli/service-units.ts). Read from
// the running host's own environment, where glibc reads it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { GLIBC_TUNABLES, systemdUnit } from '../../src/cli/service-units.js';
import { projectRoot } from '../../src/core/config/project-root.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { makeHome, TEST_KEY, until } from '../support/harness.js';

const fake = await startFakeAnthropic(() => ({ text: 'ok' }));
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await fake.close();
});

/** Starts the host with `argv` from the project root; answers the GLIBC_TUNABLES its process has, then stops it. */
async function tunablesOf(argv: string[]): Promise<string | undefined> {
  const home = makeHome('nanoclaw-launch-');
  const { PATH, HOME } = process.env;
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: projectRoot(),
    env: {
      PATH,
      HOME,
      NANOCLAW_HOME: home,
      NANOCLAW_HTTP_PORT: '0',
      NANOCLAW_WARM_AGENTS: '0',
      ANTHROPIC_API_KEY: TEST_KEY,
      ANTHROPIC_BASE_URL: fake.url,
      NANOCLAW_RUNTIME: 'bwrap',
    },
    stdio: 'ignore',
  });
  children.push(child);
  const hostJson = path.join(home, 'data', 'host.json');
  await until(() => fs.existsSync(hostJson), 60_000, 'the host to start');
  const { pid } = JSON.parse(fs.readFileSync(hostJson, 'utf8')) as { pid: number };
  const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  process.kill(pid, 'SIGTERM');
  await until(() => child.exitCode !== null || child.signalCode !== null, 30_000, 'the host to stop');
  fs.rmSync(home, { recursive: true, force: true });
  return environ.find((e) => e.startsWith('GLIBC_TUNABLES='))?.slice('GLIBC_TUNABLES='.length);
}

test('`npm start` runs the host with the allocator setting', async () => {
  expect(await tunablesOf(['npm', 'start', '--silent'])).toBe(GLIBC_TUNABLES);
}, 90_000);

test('the `nanoclaw` command runs the host with it, through its own first line, as the system runs it', async () => {
  const cli = path.join(projectRoot(), 'dist/src/cli.js');
  // What the kernel does with `#!`: the interpreter, its one argument, then the script.
  const [interpreter, arg] = /^#!(\S+)\s+(.*)$/.exec(fs.readFileSync(cli, 'utf8').split('\n')[0]!)!.slice(1);
  expect(await tunablesOf([interpreter!, arg!, cli, 'start'])).toBe(GLIBC_TUNABLES);
}, 90_000);

test('the systemd service sets it', () => {
  const unit = systemdUnit({
    node: '/usr/bin/node',
    cli: '/x/cli.js',
    home: '/h',
    logs: '/h/logs',
    pathEnv: '/usr/bin',
  });
  expect(unit).toContain(`Environment="GLIBC_TUNABLES=${GLIBC_TUNABLES}"`);
});
