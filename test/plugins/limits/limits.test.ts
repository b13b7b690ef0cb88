// The limits plugin: with it (every install by default) bubblewrap puts each sandbox in a cgroup of its own and
// stops it, naming the limit, when it goes over; doctor says so. Without it, bwrap still sets per-process rlimits.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createBwrapRuntime } from '../../../src/core/sandbox/bwrap.js';
import { selectRuntime } from '../../../src/core/sandbox/runtimes.js';
import type { SandboxRuntime, SandboxSpec } from '../../../src/core/types.js';
import {
  cgroupLimits,
  describeSupport,
  detectCgroups,
  type CgroupSupport,
} from '../../../src/plugins/limits/cgroups.js';
import { RUNTIMES } from '../../../src/plugins/index.js';
import { makeHome, until } from '../../support/harness.js';

const home = makeHome();
const dataDir = path.join(home, 'data');
fs.mkdirSync(dataDir);
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const support = detectCgroups();
const bases = (s: CgroupSupport) =>
  s.kind === 'v2' ? [s.base] : s.kind === 'v1' ? [s.memory, s.pids, s.cpu].filter((b) => b !== null) : [];
const noCgroups = support.kind === 'none';

let n = 0;
function spec(script: string, limits: Partial<SandboxSpec['limits']> = {}): SandboxSpec {
  return {
    id: `limits-test-${process.pid}-${n++}`,
    groupFolder: 'limits',
    mounts: [],
    gatewaySocket: '',
    gatewaySocketInside: '',
    env: { PATH: '/usr/bin:/bin' },
    command: ['/bin/sh', '-c', script],
    workdir: '/tmp',
    limits: { memoryMb: 64, cpus: 1, pids: 16, outputCapBytes: 1 << 20, ...limits },
  };
}

async function run(runtime: SandboxRuntime, s: SandboxSpec) {
  const proc = runtime.start(s);
  const exit = await proc.exited;
  return { ...exit, output: proc.output() };
}

describe('doctor', () => {
  test('with the default plugins, bwrap names how the kernel limits its sandboxes; without them, rlimits', async () => {
    const ctx = { dataDir, home };
    const withPlugins = (await selectRuntime('bwrap', { ...ctx, more: RUNTIMES })).runtime!;
    expect(withPlugins.describe!()).toBe(`bwrap; limits: ${describeSupport(support)}`);
    const bare = (await selectRuntime('bwrap', ctx)).runtime!;
    expect(bare.describe!()).toBe('bwrap; limits: per-process rlimits only');
  });
});

describe('without the plugin', () => {
  test('a sandbox runs under per-process limits on processes and memory', async () => {
    const bare = createBwrapRuntime({ dataDir, installId: 'limitstest' });
    const { output } = await run(bare, spec('cat /proc/self/limits'));
    expect(output).toMatch(/Max processes\s+16\s+16/);
    expect(output).toMatch(new RegExp(`Max data size\\s+${64 * 1024 * 1024}\\s`));
  });
});

describe.skipIf(noCgroups)('with the plugin', () => {
  const install = `limitstest${process.pid}`;
  const runtime = createBwrapRuntime({ dataDir, installId: install, limits: cgroupLimits() });
  const groupsOf = (id: string) => bases(support).map((b) => path.join(b, `nanoclaw-${install}-${id}`));

  test('a memory hog is stopped and the reason names the memory limit; its cgroup is removed', async () => {
    // The shell lives on after the hog, as an agent would: the watcher stops the sandbox and says why.
    const s = spec('node -e "const a=[];for(;;)a.push(Buffer.alloc(8<<20,1))"; sleep 30; echo hog-survived');
    const { reason, output } = await run(runtime, s);
    expect(reason).toBe('it used more than 64 MB of memory');
    expect(output).not.toContain('hog-survived');
    await until(() => groupsOf(s.id).every((d) => !fs.existsSync(d)), 10_000, 'the cgroup to go');
  });

  test('forking past the process limit stops the sandbox and says so', async () => {
    const { reason } = await run(runtime, spec('(for i in $(seq 40); do sleep 30 & done); sleep 30'));
    expect(reason).toBe('it started too many processes (more than 16)');
  });

  test("a crashed run's cgroups are removed at start, never another install's", async () => {
    const [base] = bases(support);
    const stale = path.join(base, `nanoclaw-${install}-crashed`);
    const other = path.join(base, `nanoclaw-someoneelse${process.pid}-live`);
    fs.mkdirSync(stale);
    fs.mkdirSync(other);
    try {
      await runtime.removeOrphans!();
      expect(fs.existsSync(stale)).toBe(false);
      expect(fs.existsSync(other)).toBe(true);
    } finally {
      for (const d of [stale, other]) if (fs.existsSync(d)) fs.rmdirSync(d);
    }
  });
});
