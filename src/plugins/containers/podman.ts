// The podman runtime (rootful or rootless). Same container shape as docker;
// podman differs in how a tmpfs is handed to the sandbox user, and it asks for
// open-file limits above what many hosts grant unless told the host's own.
import fs from 'node:fs';
import type { SandboxRuntime } from '../../core/types.js';
import { createContainerRuntime } from './container-cli.js';
import { checkContainerCli, type ContainerRuntimeOptions } from './docker.js';

/** `--ulimit` flags no higher than this process's own hard limits (podman's defaults can exceed them and fail to start). */
export function hostUlimitArgs(limitsText = readLimits()): string[] {
  const args: string[] = [];
  const hard = (label: string): number | null => {
    const m = new RegExp(`^${label}\\s+\\S+\\s+(\\d+|unlimited)`, 'm').exec(limitsText);
    if (!m || m[1] === 'unlimited') return null;
    return Number(m[1]);
  };
  const nofile = hard('Max open files');
  if (nofile) args.push('--ulimit', `nofile=${Math.min(nofile, 1_048_576)}:${Math.min(nofile, 1_048_576)}`);
  // Above the kernel's pid_max the OCI runtime is refused too (seen: EPERM at 32769 with pid_max 32768).
  const nproc = Math.min(hard('Max processes') ?? Infinity, pidMax());
  if (Number.isFinite(nproc)) args.push('--ulimit', `nproc=${nproc}:${nproc}`);
  return args;
}

function pidMax(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) || Infinity;
  } catch {
    return Infinity;
  }
}

function readLimits(): string {
  try {
    return fs.readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return '';
  }
}

export function createPodmanRuntime(opts: ContainerRuntimeOptions): SandboxRuntime {
  const cli = opts.cli ?? 'podman';
  return createContainerRuntime('podman', {
    cli,
    image: opts.image,
    installId: opts.installId,
    hostApp: opts.hostApp ?? process.platform === 'linux',
    tmpfsOwner: () => 'U',
    // Rootless: keep the user's uid the same inside, so its files stay the user's.
    hostUserArgs: ['--userns=keep-id'],
    // --init (catatonit) reaps the orphans a shell leaves behind; without it they pile up against the pids limit.
    extraRunArgs: [
      ...hostUlimitArgs(),
      ...(['/usr/libexec/podman/catatonit', '/usr/bin/catatonit'].some((p) => fs.existsSync(p)) ? ['--init'] : []),
    ],
    check: () => checkContainerCli(cli, 'Podman', opts.image, 'install it: apt-get install podman, dnf install podman'),
  });
}
