// What docker and podman share: the `run` arguments that make a container a
// NanoClaw sandbox (no network, non-root, read-only root, no capabilities,
// limits, only the given mounts plus the gateway socket), labels that tie every
// container to one install, orphan cleanup, and the limit watcher.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Mount, SandboxProcess, SandboxRuntime, SandboxSpec } from '../../core/types.js';
import { CGROUP_ROOT, cgroupCounters, cgroupDirs, type LimitCounters } from '../../core/sandbox/cgroups.js';
import { INSIDE } from '../../core/sandbox/mounts.js';
import { spawnSandbox } from '../../core/sandbox/spawn.js';

export const LABEL_INSTALL = 'nanoclaw.install';
export const LABEL_SANDBOX = 'nanoclaw.sandbox';
/** The uid:gid inside when nothing asks otherwise (the image's `node` user). */
export const SANDBOX_USER = '1000:1000';

export interface ContainerCliOptions {
  /** The CLI binary: docker or podman. */
  cli: string;
  image: string;
  installId: string;
  /**
   * Mount this host's node, runner and node_modules over the image's copies.
   * Only on Linux hosts (the binaries must run inside); elsewhere the image's
   * prebuilt runner is used.
   */
  hostApp: boolean;
  /** How this CLI gives a tmpfs to the sandbox user (docker: uid=,gid=; podman: U). */
  tmpfsOwner: (uid: number, gid: number) => string;
  /** Extra flags when the sandbox runs as the host user (podman rootless: --userns=keep-id). */
  hostUserArgs?: string[];
  /** The host's uid/gid (tests pass others). */
  hostIds?: { uid: number; gid: number };
  /** Extra `run` flags for this CLI (podman: ulimits the host can grant). */
  extraRunArgs?: string[];
}

export function containerName(installId: string, sandboxId: string): string {
  return `nanoclaw-${installId}-${sandboxId}`;
}

/** A --mount value. Docker parses it as CSV, so refuse what would change its meaning. */
export function mountFlag(source: string, target: string, readonly: boolean): string {
  for (const p of [source, target]) {
    if (/[,"\n\r]/.test(p))
      throw new Error(
        `Cannot mount "${p}" into a container: the path contains a comma, quote or newline. Rename it, or use NANOCLAW_RUNTIME=bwrap.`,
      );
  }
  return `type=bind,source=${source},target=${target}${readonly ? ',readonly' : ''}`;
}

/** The host's runner and node_modules, which an image may carry instead; plugins' runner modules are plain JS. */
export function isAppMount(m: Mount): boolean {
  const inApp = m.containerPath === INSIDE.app || m.containerPath.startsWith(INSIDE.app + '/');
  return inApp && !m.containerPath.startsWith(`${INSIDE.app}/plugins/`);
}

/**
 * Which uid the sandbox runs as, never root: the host user's own uid when that
 * is not root (so files the agent writes in its folder stay the user's), else
 * 1000, with its writable folders handed to 1000 before start.
 */
export function sandboxIds(host: { uid: number; gid: number }): {
  uid: number;
  gid: number;
  chown: boolean;
  asHostUser: boolean;
} {
  if (host.uid === 0) return { uid: 1000, gid: 1000, chown: true, asHostUser: false };
  return { uid: host.uid, gid: host.gid, chown: false, asHostUser: host.uid !== 1000 };
}

function hostIds(opts: ContainerCliOptions): { uid: number; gid: number } {
  return opts.hostIds ?? { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
}

/** Gives a root host's writable mounts to the sandbox uid (lchown: a planted symlink is not followed). */
export function chownTree(dir: string, uid: number, gid: number): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return;
  }
  if (st.uid !== uid || st.gid !== gid) fs.lchownSync(dir, uid, gid);
  if (!st.isDirectory()) return;
  for (const name of fs.readdirSync(dir)) chownTree(path.join(dir, name), uid, gid);
}

export function containerRunArgs(spec: SandboxSpec, opts: ContainerCliOptions): string[] {
  const { limits } = spec;
  const ids = sandboxIds(hostIds(opts));
  const args = [
    'run',
    '--rm',
    '--name',
    containerName(opts.installId, spec.id),
    '--label',
    `${LABEL_INSTALL}=${opts.installId}`,
    '--label',
    `${LABEL_SANDBOX}=${spec.id}`,
    '--network',
    'none',
    '--user',
    `${ids.uid}:${ids.gid}`,
    ...(ids.asHostUser ? (opts.hostUserArgs ?? []) : []),
    '--read-only',
    '--tmpfs',
    '/tmp:rw,exec,nosuid,nodev,mode=1777',
    '--tmpfs',
    `${INSIDE.home}:rw,exec,nosuid,nodev,${opts.tmpfsOwner(ids.uid, ids.gid)}`,
    '--memory',
    `${limits.memoryMb}m`,
    // Equal to --memory: no swap, so a hog is stopped instead of thrashing the disk.
    '--memory-swap',
    `${limits.memoryMb}m`,
    '--cpus',
    String(limits.cpus),
    '--pids-limit',
    String(limits.pids),
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--hostname',
    'nanoclaw',
    '--workdir',
    spec.workdir,
    ...(opts.extraRunArgs ?? []),
  ];
  for (const [k, v] of Object.entries(spec.env)) args.push('--env', `${k}=${v}`);
  for (const m of spec.mounts) {
    if (!opts.hostApp && isAppMount(m)) continue;
    args.push('--mount', mountFlag(m.hostPath, m.containerPath, m.readonly));
  }
  if (spec.gatewaySocket) args.push('--mount', mountFlag(spec.gatewaySocket, spec.gatewaySocketInside, false));
  args.push(opts.image, ...spec.command);
  return args;
}

/** The container CLI's own environment: what it needs to find its daemon, and no host secret. */
export function cliEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (
      v !== undefined &&
      /^(PATH|HOME|USER|LOGNAME|LANG|LC_ALL|TMPDIR|XDG_RUNTIME_DIR|XDG_CONFIG_HOME|DBUS_SESSION_BUS_ADDRESS|DOCKER_[A-Z_]+|CONTAINERS?_[A-Z_]+|PODMAN_[A-Z_]+|BUILDAH_[A-Z_]+|STORAGE_[A-Z_]+)$/.test(
        k,
      )
    )
      out[k] = v;
  }
  return out;
}

export function runCli(
  cli: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<{ ok: boolean; out: string; missing: boolean }> {
  return new Promise((resolve) => {
    execFile(cli, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, env: cliEnv() }, (err, stdout, stderr) => {
      resolve({
        ok: !err,
        out: `${stdout}${stderr}`.trim(),
        missing: (err as NodeJS.ErrnoException | null)?.code === 'ENOENT',
      });
    });
  });
}

/** Removes every container this install left behind (a crash, a kill -9). */
export async function removeInstallContainers(cli: string, installId: string): Promise<number> {
  const list = await runCli(cli, ['ps', '-aq', '--filter', `label=${LABEL_INSTALL}=${installId}`]);
  const ids = list.ok ? list.out.split(/\s+/).filter(Boolean) : [];
  if (ids.length) await runCli(cli, ['rm', '-f', ...ids], 60_000);
  return ids.length;
}

// The container's cgroup (v2, else v1's memory and pids groups), read to tell which limit was hit.
function cgroupCountersOf(pid: number): LimitCounters | null {
  const dirs = cgroupDirs(pid);
  const v2 = dirs.get('');
  if (v2 && path.relative(CGROUP_ROOT, v2) && fs.existsSync(path.join(v2, 'memory.events')))
    return cgroupCounters(path.join(v2, 'memory.events'), v2);
  const [mem, pids] = [dirs.get('memory') ?? null, dirs.get('pids') ?? null];
  return mem || pids ? cgroupCounters(mem && path.join(mem, 'memory.oom_control'), pids) : null;
}

/** Finds the container's first process on the host, to watch its cgroup. */
async function containerPid(cli: string, name: string, exited: () => boolean): Promise<number | null> {
  for (let i = 0; i < 120 && !exited(); i++) {
    const r = await runCli(cli, ['inspect', '--format', '{{.State.Pid}}', name], 10_000);
    const pid = Number(r.out);
    if (r.ok && pid > 0) return pid;
    await new Promise((res) => setTimeout(res, 250));
  }
  return null;
}

/** The runtime around one docker-compatible CLI; docker.ts and podman.ts fill in the differences. */
export function createContainerRuntime(
  name: string,
  opts: ContainerCliOptions & { check: () => Promise<{ ok: true } | { ok: false; reason: string }> },
): SandboxRuntime {
  return {
    name,
    check: opts.check,
    describe: () => `${name} (image ${opts.image}); limits: memory, cpus, pids by the runtime`,
    async removeOrphans() {
      await removeInstallContainers(opts.cli, opts.installId);
    },
    start(spec: SandboxSpec): SandboxProcess {
      const cname = containerName(opts.installId, spec.id);
      const ids = sandboxIds(hostIds(opts));
      if (ids.chown)
        for (const m of spec.mounts) if (!m.readonly && !isAppMount(m)) chownTree(m.hostPath, ids.uid, ids.gid);
      const proc = spawnSandbox(opts.cli, containerRunArgs(spec, opts), {
        env: cliEnv(),
        outputCapBytes: spec.limits.outputCapBytes,
        // Killing the client does not stop the container; removing it does.
        onKill: () => {
          void runCli(opts.cli, ['rm', '-f', cname]);
        },
      });
      let done = false;
      void proc.exited.then(() => {
        done = true;
        void runCli(opts.cli, ['rm', '-f', cname]);
      });
      // The runtime enforces the limits; reading its cgroup tells us which one was hit.
      void containerPid(opts.cli, cname, () => done).then((pid) => {
        const counters = pid ? cgroupCountersOf(pid) : null;
        if (counters && !done) proc.watchLimits(counters, spec.limits);
      });
      return proc;
    },
  };
}
