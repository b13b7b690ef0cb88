// Starts a sandbox's outer process (bwrap, docker run, …) and watches it: its
// output is capped, so a flood cannot fill the host's memory.
import { spawn } from 'node:child_process';
import type { SandboxProcess } from '../types.js';

const KEEP_TAIL = 64 * 1024;

export function spawnSandbox(command: string, args: string[], opts: { env: Record<string, string>; outputCapBytes: number; onKill?: () => void }): SandboxProcess {
  const child = spawn(command, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let tail = '';
  let total = 0;
  let reason: string | undefined;
  const onData = (chunk: Buffer) => {
    total += chunk.length;
    tail = (tail + chunk.toString('utf8')).slice(-KEEP_TAIL);
    if (total > opts.outputCapBytes && !reason) {
      reason = `it wrote more than ${Math.round(opts.outputCapBytes / 1024 / 1024)} MB of output`;
      kill();
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const kill = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    opts.onKill?.();
    child.kill('SIGKILL');
  };
  const exited = new Promise<{ code: number | null; signal: string | null; reason?: string }>((resolve) => {
    child.on('error', (err) => { reason ??= `it could not start: ${err.message}`; resolve({ code: null, signal: null, reason }); });
    child.on('close', (code, signal) => resolve({ code, signal, reason }));
  });
  return {
    get pid() { return child.pid; },
    exited,
    output: () => tail,
    kill: () => { reason ??= 'it was stopped'; kill(); },
  };
}
