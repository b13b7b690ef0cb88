// Runs the built `nanoclaw start` as a separate process, so a test can kill it
// the way a crash or power cut would.
import { spawn, type ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { GLIBC_TUNABLES } from '../../src/cli/service-units.js';
import { projectRoot } from '../../src/core/config/project-root.js';
import { until } from './harness.js';

export interface HostProcess {
  child: ChildProcess;
  url: string;
  token: string;
  output(): string;
  api(pathname: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Waits until the host has nothing left to do: no agent, no queued or running job, nothing undelivered. */
  settled(timeoutMs?: number): Promise<void>;
}

/** `entry` runs another built script instead of `nanoclaw start` (e.g. dist/test/support/crash-host.js). */
export async function startHostProcess(
  home: string,
  env: Record<string, string>,
  entry?: string,
): Promise<HostProcess> {
  const hostJson = path.join(home, 'data', 'host.json');
  try {
    fs.unlinkSync(hostJson);
  } catch {
    /* first start */
  }
  const args = entry ? [path.join(projectRoot(), entry)] : [path.join(projectRoot(), 'dist/src/cli.js'), 'start'];
  const child = spawn(process.execPath, args, {
    // No warm agents unless a test asks: settled() waits for a host with no agent at all.
    env: {
      ...{ PATH: process.env.PATH ?? '/usr/bin:/bin', NANOCLAW_HOME: home, NANOCLAW_HTTP_PORT: '0' },
      // As `npm start` and the `nanoclaw` command run it.
      GLIBC_TUNABLES,
      ...{ NANOCLAW_WARM_AGENTS: '0', ...env },
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  await until(() => fs.existsSync(hostJson) || child.exitCode !== null, 30_000, 'host to start');
  if (child.exitCode !== null) throw new Error(`host exited: ${out}`);
  const { url } = JSON.parse(fs.readFileSync(hostJson, 'utf8'));
  const token = fs.readFileSync(path.join(home, 'data', 'api-token'), 'utf8').trim();
  const proc: HostProcess = {
    child,
    url,
    token,
    output: () => out,
    api(pathname, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      return fetch(url + pathname, { ...init, headers, body });
    },
    async settled(timeoutMs = 60_000) {
      await until(
        async () => {
          const s = (await (await proc.api('/api/status')).json()) as {
            agents: unknown[];
            queue: { active: number; waiting: number };
          };
          return s.agents.length === 0 && s.queue.active === 0 && s.queue.waiting === 0 && undelivered(home) === 0;
        },
        timeoutMs,
        'the host to finish its work',
      );
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
  return proc;
}

/** Outbox items not yet delivered, read from the host's database. */
export function undelivered(home: string): number {
  const db = new Database(path.join(home, 'store', 'messages.db'), { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}
