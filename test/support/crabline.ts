// Starts a crabline provider server (`crabline serve <platform>`): a third-party
// local server that speaks a chat platform's public protocol on 127.0.0.1, so
// the real channel library talks to it exactly as it would to the platform.
// Its recorder (JSONL) is what the "user" side saw: the sends we count.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/core/config/project-root.js';
import { until } from './harness.js';

export type CrablinePlatform = 'discord' | 'slack' | 'signal' | 'telegram' | 'whatsapp' | 'matrix' | 'mattermost';

/** One line of the recorder: a request the client made, or an admin injection. */
export interface Recorded {
  at: string;
  type: string;
  method?: string;
  path?: string;
  body?: any;
  query?: Record<string, string>;
  accepted?: boolean;
  [key: string]: unknown;
}

export interface Crabline {
  /** The server's runtime manifest (endpoints, tokens, fixture ids), as `serve` printed it. */
  manifest: any;
  /** POSTs a user message to the admin ingress; answers the parsed JSON reply. */
  inject(body: unknown): Promise<any>;
  /** Everything recorded so far, in order. */
  recorded(): Recorded[];
  /** Waits until `check` holds on the recorder; re-reads it as it grows. */
  untilRecorded(check: (lines: Recorded[]) => boolean, timeoutMs?: number, what?: string): Promise<Recorded[]>;
  stop(): Promise<void>;
}

// From the project root, so this also works compiled into dist/ (the bench runs it from there).
const bin = path.join(projectRoot(), 'node_modules/@openclaw/crabline/dist/src/bin/crabline.js');

/**
 * Starts `crabline serve <platform>` with its recorder and ready file in `dir` (a private folder).
 * `env` passes credentials crabline takes only from its environment (e.g. CRABLINE_BOT_TOKEN).
 */
export async function startCrabline(
  platform: CrablinePlatform,
  dir: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<Crabline> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const recorderPath = path.join(dir, `${platform}.jsonl`);
  const readyFile = path.join(dir, `${platform}-ready.json`);
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, '--json', 'serve', platform, '--recorder', recorderPath, '--ready-file', readyFile, ...extraArgs],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  await until(
    () => {
      if (exited !== null) throw new Error(`crabline serve ${platform} exited ${exited}: ${stderr}`);
      return fs.existsSync(readyFile) && fs.statSync(readyFile).size > 0;
    },
    20_000,
    `crabline serve ${platform} ready`,
  );
  const manifest = JSON.parse(fs.readFileSync(readyFile, 'utf8'));

  const recorded = (): Recorded[] => {
    if (!fs.existsSync(recorderPath)) return [];
    return fs
      .readFileSync(recorderPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        const row = JSON.parse(line);
        // Several events delivered at once are stored as one batch line.
        return Array.isArray(row.events) ? (row.events as Recorded[]) : [row as Recorded];
      });
  };

  return {
    manifest,
    async inject(body) {
      const res = await fetch(manifest.endpoints.adminInboundUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-crabline-admin-token': manifest.adminToken },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`crabline ${platform} inbound refused (${res.status}): ${text}`);
      return text ? JSON.parse(text) : null;
    },
    recorded,
    async untilRecorded(check, timeoutMs = 30_000, what = `${platform} recorder`) {
      let lines: Recorded[] = [];
      await until(() => check((lines = recorded())), timeoutMs, what);
      return lines;
    },
    async stop() {
      if (exited !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * Crabline's Slack provider server, in this process, posting its Events API
 * callbacks (signed) to `eventsUrl`: `crabline serve slack` has no option for
 * the callback URL, and without one it delivers no events. Same recorder, same
 * admin ingress as startCrabline.
 */
export async function startCrablineSlack(
  dir: string,
  opts: { eventsUrl: string; chatPostMessageRateLimit?: { remaining: number; retryAfterSeconds: number } },
): Promise<Crabline> {
  const { startSlackServer } = await import('@openclaw/crabline');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const recorderPath = path.join(dir, 'slack.jsonl');
  const server = await startSlackServer({
    recorderPath,
    eventsRequestUrl: opts.eventsUrl,
    chatPostMessageRateLimit: opts.chatPostMessageRateLimit,
  });
  const manifest = server.manifest;
  const recorded = (): Recorded[] =>
    fs.existsSync(recorderPath)
      ? fs
          .readFileSync(recorderPath, 'utf8')
          .split('\n')
          .filter(Boolean)
          .flatMap((line) => {
            const row = JSON.parse(line);
            return Array.isArray(row.events) ? (row.events as Recorded[]) : [row as Recorded];
          })
      : [];
  return {
    manifest,
    async inject(body) {
      const res = await fetch(manifest.endpoints.adminInboundUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-crabline-admin-token': manifest.adminToken },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`crabline slack inbound refused (${res.status}): ${text}`);
      return text ? JSON.parse(text) : null;
    },
    recorded,
    async untilRecorded(check, timeoutMs = 30_000, what = 'slack recorder') {
      let lines: Recorded[] = [];
      await until(() => check((lines = recorded())), timeoutMs, what);
      return lines;
    },
    stop: () => server.close(),
  };
}
