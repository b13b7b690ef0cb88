// Runs the built `nanoclaw` command as a user would: its own process, a plain environment, the output it printed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

export type CliRun = { code: number | null; stdout: string; stderr: string };

/** `input` is what is typed in; a function instead is handed the running command (to look at it, then feed it). */
export function runCli(
  args: string[],
  env: Record<string, string>,
  input: string | ((child: ChildProcessWithoutNullStreams) => Promise<void>) = '',
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve('dist/src/cli.js'), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (typeof input === 'string') child.stdin.end(input);
    else
      input(child).catch((err) => {
        child.kill();
        reject(err);
      });
  });
}
