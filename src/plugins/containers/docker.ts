// The docker runtime: the Linux default when a daemon answers. Each sandbox is
// one `docker run --rm` of this install's agent image; see container-cli.ts for
// what the container may and may not do.
import type { SandboxRuntime } from '../../core/types.js';
import { createContainerRuntime, runCli } from './container-cli.js';

export interface ContainerRuntimeOptions {
  image: string;
  installId: string;
  hostApp?: boolean;
  cli?: string;
}

/** Is the daemon there, and is the image built? Said in words a user can act on. */
export async function checkContainerCli(
  cli: string,
  label: string,
  image: string,
  install: string,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const version = await runCli(cli, ['version', '--format', '{{.Server.Version}}'], 15_000);
  if (version.missing)
    return { ok: false, reason: `${label} is not installed (${install}), or use NANOCLAW_RUNTIME=bwrap.` };
  if (!version.ok || !version.out) {
    return {
      ok: false,
      reason: `${label} is installed but does not answer (${version.out.split('\n').pop()?.slice(0, 200) || 'no output'}): start it, or use NANOCLAW_RUNTIME=bwrap.`,
    };
  }
  const img = await runCli(cli, ['image', 'inspect', '--format', '{{.Id}}', image], 15_000);
  if (!img.ok)
    return {
      ok: false,
      reason: `the agent image ${image} is not built for ${label}: run "nanoclaw image build" (or container/build.sh; container/build-local-rootfs.sh without a registry).`,
    };
  return { ok: true };
}

export function createDockerRuntime(opts: ContainerRuntimeOptions): SandboxRuntime {
  const cli = opts.cli ?? 'docker';
  return createContainerRuntime('docker', {
    cli,
    image: opts.image,
    installId: opts.installId,
    hostApp: opts.hostApp ?? process.platform === 'linux',
    tmpfsOwner: (uid, gid) => `uid=${uid},gid=${gid},mode=0755`,
    extraRunArgs: ['--init'],
    check: () =>
      checkContainerCli(
        cli,
        'Docker',
        opts.image,
        'install Docker: https://docs.docker.com/engine/install/ or apt-get install docker.io',
      ),
  });
}
