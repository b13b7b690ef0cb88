// Starts a sandbox's outer process with its output capped, stoppable with the reason the chat will be told.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import type { Writable } from 'node:stream';
import type { SandboxProcess, SandboxSpec } from '../types.js';
import type { LimitCounters } from './cgroups.js';

const KEEP_TAIL = 64 * 1024;

export interface SpawnedSandbox extends SandboxProcess {
  /** Stops it, saying which limit, once its cgroup's counters show one was hit. */
  watchLimits(counters: LimitCounters, limits: SandboxSpec['limits']): void;
}

const formatMb = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MB` : `${Math.round(bytes / 1024)} KB`;

// A real pipe, not Node's socket pairs (which a process inside cannot reopen via /proc/<pid>/fd): every write counts.
function fifoOutput(file: string) {
  fs.rmSync(file, { force: true });
  execFileSync('mkfifo', ['-m', '0600', file]);
  const readFd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writeFd = fs.openSync(file, fs.constants.O_WRONLY);
  fs.unlinkSync(file);
  return { reader: new net.Socket({ fd: readFd, readable: true, writable: false }), writeFd };
}

type SpawnOptions = {
  env: Record<string, string>;
  outputCapBytes: number;
  onKill?: () => void;
  fifo?: string;
  /** Read by the child from fd 3: off its command line, which the sandbox can read in /proc. */
  fd3?: Buffer;
};

export function spawnSandbox(command: string, args: string[], opts: SpawnOptions): SpawnedSandbox {
  const fifo = opts.fifo ? fifoOutput(opts.fifo) : null;
  const out = fifo?.writeFd ?? 'pipe';
  const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', out, out];
  if (opts.fd3) stdio.push('pipe');
  const child = spawn(command, args, { env: opts.env, stdio });
  if (fifo) fs.closeSync(fifo.writeFd);
  // An error on fd 3 means the child is gone; its exit reports why.
  if (opts.fd3) (child.stdio[3] as Writable).on('error', () => {}).end(opts.fd3);
  let tail = '';
  let total = 0;
  let reason: string | undefined;
  let limitCheck: (() => string | null) | null = null;
  // The first reason is the one reported.
  const stop = (why: string) => {
    reason ??= why;
    if (child.exitCode !== null || child.signalCode !== null) return;
    opts.onKill?.();
    child.kill('SIGKILL');
  };
  const onData = (chunk: Buffer) => {
    total += chunk.length;
    tail = (tail + chunk.toString('utf8')).slice(-KEEP_TAIL);
    if (total > opts.outputCapBytes && !reason) stop(`it wrote more than ${formatMb(opts.outputCapBytes)} of output`);
  };
  // An error on the named pipe: the writer side is gone.
  if (fifo) fifo.reader.on('data', onData).on('error', () => {});
  else for (const s of [child.stdout!, child.stderr!]) s.on('data', onData);
  const exited = new Promise<Awaited<SandboxProcess['exited']>>((resolve) => {
    const done = (code: number | null, signal: string | null) => {
      fifo?.reader.destroy();
      resolve({ code, signal, reason });
    };
    child.on('error', (err) => {
      reason ??= `it could not start: ${err.message}`;
      done(null, null);
    });
    // 'exit', not 'close': a stray process still holding the named pipe must not keep the sandbox "running".
    child.on(fifo ? 'exit' : 'close', done);
  });
  return {
    get pid() {
      return child.pid;
    },
    exited,
    output: () => tail,
    kill: () => stop('it was stopped'),
    watchLimits: (counters, { memoryMb, pids }) => {
      const start = counters();
      const check = (limitCheck = () => {
        const now = counters();
        if (now.oomKills > start.oomKills) return `it used more than ${memoryMb} MB of memory`;
        return now.pidsRefused > start.pidsRefused ? `it started too many processes (more than ${pids})` : null;
      });
      // Polled: cgroup v1 has no portable push notification.
      const timer = setInterval(() => {
        const hit = check();
        if (!hit) return;
        clearInterval(timer);
        stop(hit);
      }, 500).unref();
      void exited.then(() => clearInterval(timer));
    },
    checkLimits: () => {
      const hit = reason ?? limitCheck?.() ?? null;
      if (hit) stop(hit);
      return hit;
    },
  };
}
