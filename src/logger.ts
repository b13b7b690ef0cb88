// Structured logging with pino. The host creates one logger and passes it on.
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

/** Logs JSON lines to logs/nanoclaw.log (and to stderr when asked). */
export function createLogger(opts: { level: string; logsDir?: string; stderr?: boolean }): Logger {
  const streams: pino.StreamEntry[] = [];
  if (opts.logsDir) {
    fs.mkdirSync(opts.logsDir, { recursive: true });
    streams.push({ level: opts.level as pino.Level, stream: pino.destination({ dest: path.join(opts.logsDir, 'nanoclaw.log'), sync: false, mkdir: true }) });
  }
  if (opts.stderr) streams.push({ level: opts.level as pino.Level, stream: process.stderr });
  if (streams.length === 0) return pino({ level: 'silent' });
  return pino({ level: opts.level, redact: ['credential', '*.credential', 'headers.authorization', 'headers["x-api-key"]'] }, pino.multistream(streams));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
