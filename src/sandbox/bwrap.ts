// The bubblewrap runtime (Linux, no daemon). The sandbox gets new namespaces for
// everything (no network at all: --unshare-all), a non-root uid, a private /tmp,
// a read-only view of the system's programs, and only the mounts it was given.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxProcess, SandboxRuntime, SandboxSpec } from '../types.js';
import { spawnSandbox } from './spawn.js';

export const SANDBOX_UID = 1000;

/** System paths the agent's tools need, read-only. Secrets never live here. */
const SYSTEM_RO = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/etc/alternatives', '/etc/ssl', '/etc/ca-certificates', '/etc/localtime', '/etc/nsswitch.conf', '/etc/ld.so.cache', '/etc/mime.types'];

function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => resolve({ ok: !err, out: `${stdout}${stderr}` }));
  });
}

export function bwrapArgs(spec: SandboxSpec, etcDir: string): string[] {
  const args = [
    '--unshare-all', '--die-with-parent', '--new-session',
    '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID),
    '--hostname', 'nanoclaw',
    '--cap-drop', 'ALL',
  ];
  for (const p of SYSTEM_RO) args.push('--ro-bind-try', p, p);
  args.push(
    '--ro-bind', path.join(etcDir, 'passwd'), '/etc/passwd',
    '--ro-bind', path.join(etcDir, 'group'), '/etc/group',
    '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/home', '--dir', '/home/node',
    '--dir', '/run/nanoclaw',
  );
  for (const m of spec.mounts) args.push(m.readonly ? '--ro-bind' : '--bind', m.hostPath, m.containerPath);
  args.push('--bind', spec.gatewaySocket, spec.gatewaySocketInside);
  args.push('--chdir', spec.workdir, '--clearenv');
  for (const [k, v] of Object.entries(spec.env)) args.push('--setenv', k, v);
  args.push('--', ...spec.command);
  return args;
}

export function createBwrapRuntime(opts: { dataDir: string }): SandboxRuntime {
  const etcDir = path.join(opts.dataDir, 'sandbox-etc');
  const writeEtc = () => {
    fs.mkdirSync(etcDir, { recursive: true });
    fs.writeFileSync(path.join(etcDir, 'passwd'), `root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:${SANDBOX_UID}:${SANDBOX_UID}:node:/home/node:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`);
    fs.writeFileSync(path.join(etcDir, 'group'), `root:x:0:\nnode:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`);
  };
  return {
    name: 'bwrap',
    async check() {
      const version = await run('bwrap', ['--version']);
      if (!version.ok) return { ok: false, reason: 'bubblewrap is not installed: install it (apt-get install bubblewrap, or dnf install bubblewrap) or use Docker.' };
      const probe = await run('bwrap', ['--unshare-all', '--uid', String(SANDBOX_UID), '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', 'true']);
      if (!probe.ok) {
        return { ok: false, reason: `bubblewrap cannot create a sandbox here (${probe.out.trim().slice(0, 200)}). Enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or use Docker.` };
      }
      return { ok: true };
    },
    start(spec: SandboxSpec): SandboxProcess {
      writeEtc();
      return spawnSandbox('bwrap', bwrapArgs(spec, etcDir), { env: { PATH: '/usr/bin:/bin' }, outputCapBytes: spec.limits.outputCapBytes });
    },
  };
}
