// What docker, podman and Apple Container are asked to run: the flags that make
// a container a sandbox. And, where a runtime is under test, that orphan cleanup
// removes this install's containers and never another install's.
import { describe, expect, test } from 'vitest';
import { appleRunArgs } from '../../src/plugins/containers/apple.js';
import {
  containerRunArgs,
  LABEL_INSTALL,
  removeInstallContainers,
  runCli,
} from '../../src/plugins/containers/container-cli.js';
import { hostUlimitArgs } from '../../src/plugins/containers/podman.js';
import { installId } from '../../src/core/sandbox/install-id.js';
import type { SandboxSpec } from '../../src/core/types.js';
import { RUNTIMES, TEST_IMAGE } from './support.js';

const spec: SandboxSpec = {
  id: 'family-abc',
  groupFolder: 'family',
  mounts: [
    { hostPath: '/home/u/nanoclaw/groups/family', containerPath: '/workspace/group', readonly: false },
    { hostPath: '/home/u/nanoclaw/groups/global', containerPath: '/workspace/global', readonly: true },
    { hostPath: '/opt/nanoclaw/dist/runner', containerPath: '/app/runner', readonly: true },
  ],
  gatewaySocket: '/home/u/nanoclaw/data/sockets/family-abc.sock',
  gatewaySocketInside: '/run/nanoclaw/gateway.sock',
  env: { HOME: '/home/node', TZ: 'UTC' },
  command: ['/app/bin/node', '/app/runner/index.js'],
  workdir: '/workspace/group',
  limits: { memoryMb: 1024, cpus: 1.5, pids: 256, outputCapBytes: 1 << 24 },
};

const opts = {
  cli: 'docker',
  image: 'nanoclaw-agent-x:latest',
  installId: 'abc123def456',
  hostApp: true,
  tmpfsOwner: (u: number, g: number) => `uid=${u},gid=${g}`,
  hostIds: { uid: 1000, gid: 1000 },
};

function flagValues(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
}

describe('container run arguments', () => {
  test('docker/podman: no network, non-root, read-only root, no capabilities, limits, labels', () => {
    const args = containerRunArgs(spec, opts);
    expect(args.slice(0, 2)).toEqual(['run', '--rm']);
    expect(flagValues(args, '--network')).toEqual(['none']);
    expect(flagValues(args, '--user')).toEqual(['1000:1000']);
    expect(args).toContain('--read-only');
    expect(flagValues(args, '--cap-drop')).toEqual(['ALL']);
    expect(flagValues(args, '--security-opt')).toEqual(['no-new-privileges']);
    expect(flagValues(args, '--memory')).toEqual(['1024m']);
    expect(flagValues(args, '--memory-swap')).toEqual(['1024m']);
    expect(flagValues(args, '--cpus')).toEqual(['1.5']);
    expect(flagValues(args, '--pids-limit')).toEqual(['256']);
    expect(flagValues(args, '--label')).toContain(`${LABEL_INSTALL}=abc123def456`);
    expect(flagValues(args, '--name')).toEqual(['nanoclaw-abc123def456-family-abc']);
    expect(flagValues(args, '--mount')).toEqual([
      'type=bind,source=/home/u/nanoclaw/groups/family,target=/workspace/group',
      'type=bind,source=/home/u/nanoclaw/groups/global,target=/workspace/global,readonly',
      'type=bind,source=/opt/nanoclaw/dist/runner,target=/app/runner,readonly',
      'type=bind,source=/home/u/nanoclaw/data/sockets/family-abc.sock,target=/run/nanoclaw/gateway.sock',
    ]);
    expect(args.slice(-3)).toEqual(['nanoclaw-agent-x:latest', '/app/bin/node', '/app/runner/index.js']);
  });

  test('a root host runs the sandbox as 1000, a user host as that user; never root inside', () => {
    expect(flagValues(containerRunArgs(spec, { ...opts, hostIds: { uid: 0, gid: 0 } }), '--user')).toEqual([
      '1000:1000',
    ]);
    const user = containerRunArgs(spec, {
      ...opts,
      hostIds: { uid: 1234, gid: 1234 },
      hostUserArgs: ['--userns=keep-id'],
    });
    expect(flagValues(user, '--user')).toEqual(['1234:1234']);
    expect(user).toContain('--userns=keep-id');
  });

  test("without the host app (a non-Linux host), the image's runner is used", () => {
    const args = containerRunArgs(spec, { ...opts, hostApp: false });
    expect(flagValues(args, '--mount').some((m) => m.includes('/app/runner'))).toBe(false);
  });

  test('a path that would change the meaning of --mount is refused with what to do', () => {
    const bad = {
      ...spec,
      mounts: [{ hostPath: '/home/u/a,readonly=false', containerPath: '/workspace/group', readonly: true }],
    };
    expect(() => containerRunArgs(bad, opts)).toThrow(/comma.*NANOCLAW_RUNTIME=bwrap/);
  });

  test("Apple Container: read-only mounts through --mount ...,readonly, the image's own runner, memory and cpus", () => {
    const args = appleRunArgs({ ...spec, gatewaySocket: '' }, { image: 'img', installId: 'abc123def456' });
    expect(flagValues(args, '--mount')).toEqual([
      'type=bind,source=/home/u/nanoclaw/groups/family,target=/workspace/group',
      'type=bind,source=/home/u/nanoclaw/groups/global,target=/workspace/global,readonly',
    ]);
    expect(flagValues(args, '--memory')).toEqual(['1024M']);
    expect(flagValues(args, '--cpus')).toEqual(['2']);
    expect(flagValues(args, '--user')).toEqual(['1000:1000']);
  });

  test('podman ulimits never exceed what this host grants', () => {
    const text =
      'Max processes             96365                96365                processes\nMax open files            20000                20000                files\n';
    const args = hostUlimitArgs(text);
    expect(args).toContain('nofile=20000:20000');
    expect(Number(/nproc=(\d+)/.exec(args.join(' '))?.[1])).toBeLessThanOrEqual(96365);
  });

  test('install ids differ per home and are stable', () => {
    expect(installId('/home/a/nanoclaw')).toBe(installId('/home/a/nanoclaw'));
    expect(installId('/home/a/nanoclaw')).not.toBe(installId('/home/b/nanoclaw'));
  });
});

for (const cli of RUNTIMES.filter((r) => r === 'docker' || r === 'podman')) {
  test(`${cli}: orphan cleanup removes this install's containers and never another install's`, async () => {
    const mine = 'aaaaaaaaaaaa';
    const theirs = 'bbbbbbbbbbbb';
    for (const id of [mine, theirs]) {
      const r = await runCli(cli, [
        'create',
        '--name',
        `nanoclaw-${id}-orphan`,
        '--label',
        `${LABEL_INSTALL}=${id}`,
        '--network',
        'none',
        TEST_IMAGE,
        'true',
      ]);
      expect(r.ok, r.out).toBe(true);
    }
    expect(await removeInstallContainers(cli, mine)).toBe(1);
    const left = await runCli(cli, ['ps', '-a', '--format', '{{.Names}}']);
    expect(left.out).not.toContain(`nanoclaw-${mine}-orphan`);
    expect(left.out).toContain(`nanoclaw-${theirs}-orphan`);
    await removeInstallContainers(cli, theirs);
  });
}
