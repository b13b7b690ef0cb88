// cgroup v2/v1 limits for runtimes without their own (bwrap), and a watcher that stops a sandbox at a limit.
import fs from 'node:fs';
import path from 'node:path';

export interface Limits {
  memoryMb: number;
  cpus: number;
  pids: number;
}

export type CgroupSupport =
  | { kind: 'v2'; base: string }
  | { kind: 'v1'; memory: string; pids: string; cpu: string | null }
  | { kind: 'none'; reason: string };

export interface SandboxCgroup {
  /** For the sandbox's first process, before it forks. */
  procsFiles: string[];
  counters(): { oomKills: number; pidsRefused: number };
  destroy(): Promise<void>;
}

const ROOT = '/sys/fs/cgroup';
export const CGROUP_PREFIX = 'nanoclaw-';

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function counter(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export function cgroupPaths(pid: number | 'self' = 'self'): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of read(`/proc/${pid}/cgroup`).split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const c of m[1].split(',')) out.set(c, m[2]);
  }
  return out;
}

function writable(dir: string): boolean {
  const probe = path.join(dir, `${CGROUP_PREFIX}probe-${process.pid}`);
  try {
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

export function detectCgroups(): CgroupSupport {
  const own = cgroupPaths();
  const v2 = own.get('');
  if (v2 !== undefined && fs.existsSync(path.join(ROOT, 'cgroup.controllers'))) {
    // Our own group (a delegated service), else one at the top (root only). A base with processes of its
    // own cannot hand controllers down (EBUSY).
    for (const base of [path.join(ROOT, v2), path.join(ROOT, 'nanoclaw')]) {
      try {
        fs.mkdirSync(base, { recursive: true });
        const controllers = read(path.join(base, 'cgroup.controllers')).split(/\s+/);
        if (!['memory', 'pids'].every((c) => controllers.includes(c)) || !writable(base)) continue;
        fs.writeFileSync(
          path.join(base, 'cgroup.subtree_control'),
          '+memory +pids' + (controllers.includes('cpu') ? ' +cpu' : ''),
        );
        return { kind: 'v2', base };
      } catch {
        /* try the next, then v1, then none */
      }
    }
  }
  const mem = own.get('memory');
  const pids = own.get('pids');
  if (mem !== undefined && pids !== undefined) {
    const memory = path.join(ROOT, 'memory', mem);
    const pidsDir = path.join(ROOT, 'pids', pids);
    const cpuPath = own.get('cpu');
    const cpu = cpuPath !== undefined ? path.join(ROOT, 'cpu', cpuPath) : null;
    if (writable(memory) && writable(pidsDir))
      return { kind: 'v1', memory, pids: pidsDir, cpu: cpu && writable(cpu) ? cpu : null };
  }
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

function tryWrite(dir: string, file: string, value: string): boolean {
  try {
    fs.writeFileSync(path.join(dir, file), value);
    return true;
  } catch {
    return false;
  }
}

function killAll(dir: string): void {
  if (tryWrite(dir, 'cgroup.kill', '1')) return;
  for (const pid of read(path.join(dir, 'cgroup.procs')).split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

async function removeWhenEmpty(dir: string): Promise<void> {
  // The kernel empties a group a moment after its last process is killed.
  for (let i = 0; i < 100; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      killAll(dir);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const v2Counters = (dir: string) => () => ({
  oomKills: counter(read(path.join(dir, 'memory.events')), 'oom_kill'),
  pidsRefused: counter(read(path.join(dir, 'pids.events')), 'max'),
});

export function createSandboxCgroup(support: CgroupSupport, name: string, limits: Limits): SandboxCgroup | null {
  const bytes = String(Math.max(16, limits.memoryMb) * 1024 * 1024);
  if (support.kind === 'v2') {
    const dir = path.join(support.base, CGROUP_PREFIX + name);
    fs.mkdirSync(dir);
    tryWrite(dir, 'memory.max', bytes);
    tryWrite(dir, 'memory.swap.max', '0');
    // One process over the limit takes the whole sandbox down with it.
    tryWrite(dir, 'memory.oom.group', '1');
    tryWrite(dir, 'pids.max', String(limits.pids));
    tryWrite(dir, 'cpu.max', `${Math.round(limits.cpus * 100_000)} 100000`);
    return {
      procsFiles: [path.join(dir, 'cgroup.procs')],
      counters: v2Counters(dir),
      destroy: async () => {
        killAll(dir);
        await removeWhenEmpty(dir);
      },
    };
  }
  if (support.kind === 'v1') {
    const dirs = {
      memory: path.join(support.memory, CGROUP_PREFIX + name),
      pids: path.join(support.pids, CGROUP_PREFIX + name),
      cpu: support.cpu ? path.join(support.cpu, CGROUP_PREFIX + name) : null,
    };
    for (const d of [dirs.memory, dirs.pids, dirs.cpu]) if (d) fs.mkdirSync(d);
    tryWrite(dirs.memory, 'memory.limit_in_bytes', bytes);
    // Without this, a hog would swap instead of stopping (where swap exists).
    tryWrite(dirs.memory, 'memory.memsw.limit_in_bytes', bytes);
    tryWrite(dirs.pids, 'pids.max', String(limits.pids));
    if (dirs.cpu) {
      const quota = limits.cpus * Number(read(path.join(dirs.cpu, 'cpu.cfs_period_us'))) || 100_000;
      tryWrite(dirs.cpu, 'cpu.cfs_quota_us', String(Math.round(quota)));
    }
    return {
      procsFiles: [dirs.memory, dirs.pids, dirs.cpu]
        .filter((d): d is string => !!d)
        .map((d) => path.join(d, 'cgroup.procs')),
      counters: () => ({
        oomKills: counter(read(path.join(dirs.memory, 'memory.oom_control')), 'oom_kill'),
        pidsRefused: counter(read(path.join(dirs.pids, 'pids.events')), 'max'),
      }),
      destroy: async () => {
        killAll(dirs.pids);
        for (const d of [dirs.pids, dirs.memory, dirs.cpu]) if (d) await removeWhenEmpty(d);
      },
    };
  }
  return null;
}

export function cgroupCountersOf(pid: number): SandboxCgroup['counters'] | null {
  const paths = cgroupPaths(pid);
  if (paths.size === 0) return null;
  const v2 = paths.get('');
  if (v2 !== undefined && v2 !== '/' && fs.existsSync(path.join(ROOT, v2, 'memory.events'))) {
    return v2Counters(path.join(ROOT, v2));
  }
  const mem = paths.get('memory');
  const pids = paths.get('pids');
  if (mem === undefined && pids === undefined) return null;
  return () => ({
    oomKills: mem !== undefined ? counter(read(path.join(ROOT, 'memory', mem, 'memory.oom_control')), 'oom_kill') : 0,
    pidsRefused: pids !== undefined ? counter(read(path.join(ROOT, 'pids', pids, 'pids.events')), 'max') : 0,
  });
}

export function limitReason(kind: 'memory' | 'pids', limits: Limits): string {
  return kind === 'memory'
    ? `it used more than ${limits.memoryMb} MB of memory`
    : `it started too many processes (more than ${limits.pids})`;
}

export function limitChecker(counters: SandboxCgroup['counters'], limits: Limits): () => string | null {
  const start = counters();
  return () => {
    const now = counters();
    if (now.oomKills > start.oomKills) return limitReason('memory', limits);
    if (now.pidsRefused > start.pidsRefused) return limitReason('pids', limits);
    return null;
  };
}

// Polled: cgroup v1 has no portable push notification. The agent also checks when the runner reports a failure.
export function watchLimits(
  check: () => string | null,
  onExceeded: (reason: string) => void,
  intervalMs = 500,
): () => void {
  const timer = setInterval(() => {
    const reason = check();
    if (reason) {
      clearInterval(timer);
      onExceeded(reason);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function removeStaleCgroups(support: CgroupSupport, prefix: string): void {
  const bases =
    support.kind === 'v2'
      ? [support.base]
      : support.kind === 'v1'
        ? [support.memory, support.pids, support.cpu].filter((d): d is string => !!d)
        : [];
  for (const base of bases) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(base);
    } catch {
      continue;
    }
    for (const e of entries)
      if (e.startsWith(CGROUP_PREFIX + prefix)) {
        try {
          killAll(path.join(base, e));
          fs.rmdirSync(path.join(base, e));
        } catch {
          /* still busy: next start */
        }
      }
  }
}
