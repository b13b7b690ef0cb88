// cgroup v2/v1 limits for bwrap sandboxes (a runtime without its own), each sandbox in its own group.
import fs from 'node:fs';
import path from 'node:path';
import {
  CGROUP_ROOT as ROOT,
  cgroupCounters,
  cgroupDirs,
  readCgroupFile as read,
  type LimitCounters,
} from '../../core/sandbox/cgroups.js';
import type { BwrapLimits } from '../../core/sandbox/bwrap.js';
import type { SandboxSpec } from '../../core/types.js';

export type CgroupSupport =
  | { kind: 'v2'; base: string }
  | { kind: 'v1'; memory: string; pids: string; cpu: string | null }
  | { kind: 'none'; reason: string };

interface SandboxCgroup {
  /** For the sandbox's first process, before it forks. */
  procsFiles: string[];
  counters: LimitCounters;
  destroy(): Promise<void>;
}

const CGROUP_PREFIX = 'nanoclaw-';

const attempt = <T>(fn: () => T, failed: T): T => {
  try {
    return fn();
  } catch {
    return failed;
  }
};
const write = (file: string, value: string) => attempt(() => (fs.writeFileSync(file, value), true), false);

function writable(dir: string) {
  const probe = path.join(dir, `${CGROUP_PREFIX}probe-${process.pid}`);
  return attempt(() => (fs.mkdirSync(probe), fs.rmdirSync(probe), true), false);
}

export function detectCgroups(): CgroupSupport {
  const own = cgroupDirs();
  const v2 = own.get('');
  if (v2 !== undefined && fs.existsSync(path.join(ROOT, 'cgroup.controllers'))) {
    // Our own group (a delegated service), else one at the top (root only). A base with processes of its
    // own cannot hand controllers down (EBUSY).
    for (const base of [v2, path.join(ROOT, 'nanoclaw')]) {
      const ok = attempt(() => {
        fs.mkdirSync(base, { recursive: true });
        const has = read(path.join(base, 'cgroup.controllers')).split(/\s+/);
        if (!has.includes('memory') || !has.includes('pids') || !writable(base)) return false;
        fs.writeFileSync(
          path.join(base, 'cgroup.subtree_control'),
          '+memory +pids' + (has.includes('cpu') ? ' +cpu' : ''),
        );
        return true;
      }, false);
      if (ok) return { kind: 'v2', base };
    }
  }
  const [memory, pids, cpu] = ['memory', 'pids', 'cpu'].map((c) => own.get(c) ?? null);
  if (memory && pids && writable(memory) && writable(pids))
    return { kind: 'v1', memory, pids, cpu: cpu && writable(cpu) ? cpu : null };
  return {
    kind: 'none',
    reason:
      'no writable cgroup here (run NanoClaw as a systemd service with Delegate=yes, or as root, for memory and process limits enforced by the kernel)',
  };
}

export function describeSupport(s: CgroupSupport): string {
  if (s.kind === 'v2') return `cgroup v2 under ${s.base}`;
  if (s.kind === 'v1') return `cgroup v1 (memory, pids${s.cpu ? ', cpu' : ''})`;
  return `per-process rlimits only: ${s.reason}`;
}

function setAll(dir: string, files: Record<string, string>) {
  for (const [file, value] of Object.entries(files)) write(path.join(dir, file), value);
}

function killAll(dir: string) {
  if (write(path.join(dir, 'cgroup.kill'), '1')) return;
  for (const pid of read(path.join(dir, 'cgroup.procs')).split('\n').filter(Boolean))
    attempt(() => process.kill(Number(pid), 'SIGKILL'), false);
}

async function removeWhenEmpty(dir: string) {
  // The kernel empties a group a moment after its last process is killed.
  for (let i = 0; i < 100; i++) {
    try {
      return fs.rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      killAll(dir);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function createSandboxCgroup(
  support: CgroupSupport,
  name: string,
  limits: SandboxSpec['limits'],
): SandboxCgroup | null {
  if (support.kind === 'none') return null;
  const bytes = String(Math.max(16, limits.memoryMb) * 1024 * 1024);
  const pidsMax = String(limits.pids);
  const own = (base: string) => path.join(base, CGROUP_PREFIX + name);
  if (support.kind === 'v2') {
    const dir = own(support.base);
    fs.mkdirSync(dir);
    setAll(dir, {
      'memory.max': bytes,
      'memory.swap.max': '0',
      // One process over the limit takes the whole sandbox down with it.
      'memory.oom.group': '1',
      'pids.max': pidsMax,
      'cpu.max': `${Math.round(limits.cpus * 100_000)} 100000`,
    });
    return {
      procsFiles: [path.join(dir, 'cgroup.procs')],
      counters: cgroupCounters(path.join(dir, 'memory.events'), dir),
      destroy: async () => {
        killAll(dir);
        await removeWhenEmpty(dir);
      },
    };
  }
  const memory = own(support.memory);
  const pids = own(support.pids);
  const cpu = support.cpu ? own(support.cpu) : null;
  const dirs = [memory, pids, cpu].filter((d) => d !== null);
  for (const d of dirs) fs.mkdirSync(d);
  // Without memsw, a hog would swap instead of stopping (where swap exists).
  setAll(memory, { 'memory.limit_in_bytes': bytes, 'memory.memsw.limit_in_bytes': bytes });
  setAll(pids, { 'pids.max': pidsMax });
  if (cpu) {
    const quota = limits.cpus * Number(read(path.join(cpu, 'cpu.cfs_period_us'))) || 100_000;
    setAll(cpu, { 'cpu.cfs_quota_us': String(Math.round(quota)) });
  }
  return {
    procsFiles: dirs.map((d) => path.join(d, 'cgroup.procs')),
    counters: cgroupCounters(path.join(memory, 'memory.oom_control'), pids),
    destroy: async () => {
      killAll(pids);
      for (const d of [pids, memory, cpu]) if (d) await removeWhenEmpty(d);
    },
  };
}

function removeStaleCgroups(support: CgroupSupport, prefix: string): void {
  const bases =
    support.kind === 'v2' ? [support.base] : support.kind === 'v1' ? [support.memory, support.pids, support.cpu] : [];
  for (const base of bases.filter((b) => b !== null))
    for (const e of attempt(() => fs.readdirSync(base), []))
      if (e.startsWith(CGROUP_PREFIX + prefix))
        // Still busy: the next start tries again.
        attempt(() => (killAll(path.join(base, e)), fs.rmdirSync(path.join(base, e))), null);
}

/** The shell joins each cgroup before it execs, so every process the sandbox forks starts inside. */
const JOIN = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';

/** What bwrap asks of its limits; cgroup support is looked up once, when first needed. */
export function cgroupLimits(): BwrapLimits {
  let support: CgroupSupport | null = null;
  const cgroups = () => (support ??= detectCgroups());
  return {
    describe: () => describeSupport(cgroups()),
    removeStale: (prefix) => removeStaleCgroups(cgroups(), prefix),
    start(name, limits) {
      const cg = createSandboxCgroup(cgroups(), name, limits);
      if (!cg) return null;
      return {
        prefix: ['/bin/sh', '-c', JOIN, 'nanoclaw-limits', String(cg.procsFiles.length), ...cg.procsFiles],
        watch(proc) {
          proc.watchLimits(cg.counters, limits);
          void proc.exited.then(() => cg.destroy());
        },
      };
    },
  };
}
