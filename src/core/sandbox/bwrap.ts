// The bubblewrap runtime: no network, non-root, read-only system, only the given mounts; a plugin's limits or rlimits.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxRuntime, SandboxSpec } from '../types.js';
import { spawnSandbox, type SpawnedSandbox } from './spawn.js';

/** Read-only system paths for the agent's tools (the last three for its Chromium). Secrets never live here. */
const SYSTEM_RO = `/usr /bin /sbin /lib /lib64 /lib32 /etc/alternatives /etc/ssl /etc/ca-certificates /etc/localtime
  /etc/nsswitch.conf /etc/ld.so.cache /etc/mime.types /etc/fonts /etc/chromium.d /etc/chromium`.split(/\s+/);
const UID = '1000';
const PROBE = `--unshare-all --uid ${UID} --ro-bind / / --proc /proc --dev /dev true`.split(' ');

const run = (cmd: string, args: string[]) =>
  new Promise<{ ok: boolean; out: string }>((resolve) =>
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => resolve({ ok: !err, out: `${stdout}${stderr}` })),
  );

// RLIMIT_DATA, not address space: V8 and WebAssembly reserve far more address space than they use.
const rlimitPrefix = ({ pids, memoryMb }: SandboxSpec['limits']) =>
  fs.existsSync('/usr/bin/prlimit')
    ? ['/usr/bin/prlimit', `--nproc=${pids}`, `--data=${memoryMb * 1024 * 1024}`, '--']
    : [];

// Without the command (see start).
function bwrapOptions(spec: SandboxSpec, etcDir: string): string[] {
  const args = `--unshare-all --die-with-parent --new-session --uid ${UID} --gid ${UID}`.split(' ');
  args.push('--hostname', 'nanoclaw', '--cap-drop', 'ALL');
  for (const p of SYSTEM_RO) args.push('--ro-bind-try', p, p);
  for (const f of ['passwd', 'group']) args.push('--ro-bind', path.join(etcDir, f), `/etc/${f}`);
  args.push(...'--proc /proc --dev /dev --tmpfs /tmp --tmpfs /home --dir /home/node --dir /run/nanoclaw'.split(' '));
  for (const m of spec.mounts) args.push(m.readonly ? '--ro-bind' : '--bind', m.hostPath, m.containerPath);
  if (spec.gatewaySocket) args.push('--bind', spec.gatewaySocket, spec.gatewaySocketInside);
  args.push('--chdir', spec.workdir, '--clearenv');
  for (const [k, v] of Object.entries(spec.env)) args.push('--setenv', k, v);
  return args;
}

function argsFile(args: string[]): Buffer {
  for (const a of args)
    if (a.includes('\0')) throw new Error(`A sandbox argument contains a NUL byte: ${JSON.stringify(a.slice(0, 100))}`);
  return Buffer.from(`${args.join('\0')}\0`);
}

/** Kernel limits around each sandbox (the limits plugin's cgroups); without them (or when `start` gives null), rlimits. */
export interface BwrapLimits {
  describe(): string;
  /** Removes what a crashed run's sandboxes left (names starting with `prefix`). */
  removeStale(prefix: string): void;
  /** A command to run bwrap in, inside the limits, and a watch once it runs. */
  start(name: string, limits: SandboxSpec['limits']): { prefix: string[]; watch(proc: SpawnedSandbox): void } | null;
}

export function createBwrapRuntime(opts: { dataDir: string; installId: string; limits?: BwrapLimits }): SandboxRuntime {
  const etcDir = path.join(opts.dataDir, 'sandbox-etc');
  return {
    name: 'bwrap',
    async check() {
      const fail = (reason: string) => ({ ok: false as const, reason });
      if (!(await run('bwrap', ['--version'])).ok)
        return fail(
          'bubblewrap is not installed: install it (apt-get install bubblewrap, or dnf install bubblewrap) or use Docker.',
        );
      const probe = await run('bwrap', PROBE);
      if (probe.ok) return { ok: true };
      return fail(
        `bubblewrap cannot create a sandbox here (${probe.out.trim().slice(0, 200)}). Enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or use Docker.`,
      );
    },
    describe: () => `bwrap; limits: ${opts.limits?.describe() ?? 'per-process rlimits only'}`,
    // bwrap sandboxes die with the host (--die-with-parent); only what holds their limits can outlive a crash.
    removeOrphans: async () => opts.limits?.removeStale(`${opts.installId}-`),
    start(spec) {
      fs.mkdirSync(etcDir, { recursive: true });
      fs.writeFileSync(
        path.join(etcDir, 'passwd'),
        `root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:${UID}:${UID}:node:/home/node:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
      );
      fs.writeFileSync(path.join(etcDir, 'group'), `root:x:0:\nnode:x:${UID}:\nnogroup:x:65534:\n`);
      const limits = opts.limits?.start(`${opts.installId}-${spec.id}`, spec.limits);
      // The options name host paths, so they go through fd 3: the sandbox can read bwrap's argv in /proc/1/cmdline.
      const rlimits = limits ? [] : rlimitPrefix(spec.limits);
      const [command, ...args] = [...(limits?.prefix ?? []), 'bwrap', '--args', '3', '--', ...rlimits, ...spec.command];
      const proc = spawnSandbox(command, args, {
        env: { PATH: '/usr/bin:/bin' },
        outputCapBytes: spec.limits.outputCapBytes,
        fifo: path.join(opts.dataDir, `out-${spec.id}`),
        fd3: argsFile(bwrapOptions(spec, etcDir)),
      });
      limits?.watch(proc);
      return proc;
    },
  };
}
