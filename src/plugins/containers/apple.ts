// The Apple Container runtime (macOS 26+, Apple silicon): each sandbox is a
// lightweight Linux VM started with the `container` CLI. A VM cannot share a
// unix socket with the host, so the sandbox reaches its gateway over TCP on the
// host's address on the container network, and every connection must open with
// the sandbox's own secret (tcp-endpoint.ts) — the address alone proves nothing.
//
// Differences from docker/podman, by necessity: the VM has a network interface
// (it needs one to reach the gateway), so the egress policy holds for programs
// that use the proxy (HTTPS_PROXY is set), not at the packet level; there is no
// process-count limit (the VM's own memory and CPUs bound it); the image's own
// node and prebuilt runner are used, since this host's binaries are for macOS.
import type { SandboxProcess, SandboxRuntime, SandboxSpec } from '../../core/types.js';
import {
  cliEnv,
  containerName,
  isAppMount,
  LABEL_INSTALL,
  LABEL_SANDBOX,
  mountFlag,
  runCli,
  SANDBOX_USER,
} from './container-cli.js';
import { spawnSandbox } from '../../core/sandbox/spawn.js';
import { INSIDE } from '../../core/sandbox/mounts.js';
import { tcpEndpoint } from './tcp-endpoint.js';

/** The host as seen from the default vmnet network (`container network list`: 192.168.64.0/24). */
export const APPLE_HOST_ADDRESS = '192.168.64.1';

export interface AppleRuntimeOptions {
  image: string;
  installId: string;
  cli?: string;
  hostAddress?: string;
}

export function appleRunArgs(spec: SandboxSpec, opts: AppleRuntimeOptions): string[] {
  const args = [
    'run',
    '--rm',
    '--name',
    containerName(opts.installId, spec.id),
    '--label',
    `${LABEL_INSTALL}=${opts.installId}`,
    '--label',
    `${LABEL_SANDBOX}=${spec.id}`,
    '--user',
    SANDBOX_USER,
    '--cpus',
    String(Math.max(1, Math.ceil(spec.limits.cpus))),
    '--memory',
    `${spec.limits.memoryMb}M`,
    '--workdir',
    spec.workdir,
    '--tmpfs',
    '/tmp',
  ];
  for (const [k, v] of Object.entries(spec.env)) args.push('--env', `${k}=${v}`);
  for (const m of spec.mounts) {
    // The VM mounts folders only: its image carries /app, plugins' runner modules included.
    if (m.containerPath.startsWith(`${INSIDE.app}/`) || isAppMount(m)) continue;
    // `-v host:container:ro` is not honoured as read-only by every release; --mount is.
    args.push('--mount', mountFlag(m.hostPath, m.containerPath, m.readonly));
  }
  args.push(opts.image, ...spec.command);
  return args;
}

export function createAppleRuntime(opts: AppleRuntimeOptions): SandboxRuntime {
  const cli = opts.cli ?? 'container';
  const host = opts.hostAddress ?? APPLE_HOST_ADDRESS;
  return {
    name: 'apple',
    openEndpoint: tcpEndpoint(host),
    describe: () => `apple (image ${opts.image}); limits: memory and cpus per VM`,
    async check() {
      if (process.platform !== 'darwin')
        return { ok: false, reason: 'Apple Container runs only on macOS (26 or newer, Apple silicon).' };
      const status = await runCli(cli, ['system', 'status'], 15_000);
      if (status.missing)
        return {
          ok: false,
          reason:
            'Apple Container is not installed: install it from https://github.com/apple/container/releases, or use Docker.',
        };
      if (!status.ok)
        return {
          ok: false,
          reason: `Apple Container is not running (${status.out.slice(0, 200)}): run "container system start".`,
        };
      const img = await runCli(cli, ['image', 'inspect', opts.image], 15_000);
      if (!img.ok)
        return {
          ok: false,
          reason: `the agent image ${opts.image} is not built for Apple Container: run "nanoclaw image build".`,
        };
      return { ok: true };
    },
    async removeOrphans() {
      const list = await runCli(cli, ['list', '--all', '--format', 'json'], 30_000);
      if (!list.ok) return;
      let items: any[] = [];
      try {
        items = JSON.parse(list.out);
      } catch {
        return;
      }
      const ids = items
        .filter((c) => c?.configuration?.labels?.[LABEL_INSTALL] === opts.installId)
        .map((c) => String(c.configuration.id));
      if (ids.length) await runCli(cli, ['delete', '--force', ...ids], 60_000);
    },
    start(spec: SandboxSpec): SandboxProcess {
      const name = containerName(opts.installId, spec.id);
      const proc = spawnSandbox(cli, appleRunArgs(spec, opts), {
        env: cliEnv(),
        outputCapBytes: spec.limits.outputCapBytes,
        onKill: () => {
          void runCli(cli, ['delete', '--force', name]);
        },
      });
      void proc.exited.then(() => runCli(cli, ['delete', '--force', name]));
      return proc;
    },
  };
}
