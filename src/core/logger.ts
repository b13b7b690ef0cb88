// pino logging: the host creates one logger and passes it on.
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { redact } from './secrets.js';

export type { Logger };

export function createLogger(opts: { level: string; logsDir?: string; stderr?: boolean }): Logger {
  const level = opts.level as pino.Level;
  const streams: pino.StreamEntry[] = [];
  if (opts.logsDir) {
    try {
      fs.mkdirSync(opts.logsDir, { recursive: true });
    } catch {
      /* the log file reports it by dropping lines */
    }
    streams.push({ level, stream: createLogFile(path.join(opts.logsDir, 'nanoclaw.log')) });
  }
  if (opts.stderr) streams.push({ level, stream: process.stderr });
  if (!streams.length) return silentLogger();
  return pino(
    {
      level,
      redact: ['credential', '*.credential', 'headers.authorization', 'headers["x-api-key"]'],
      // Every line is redacted, whatever field carries a secret.
      hooks: { streamWrite: redact },
    },
    pino.multistream(streams),
  );
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const RETRY_MS = 5_000;
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

// Never throws or blocks: while the disk refuses, lines are dropped and counted and writing is retried after RETRY_MS.
function createLogFile(file: string) {
  let fd: number | null = null;
  let pending: string[] = [];
  let pendingBytes = 0;
  let writing = false;
  let dropped = 0;
  let pausedUntil = 0;

  const refuse = (lost: number) => {
    dropped += lost + pending.length;
    pending = [];
    pendingBytes = 0;
    pausedUntil = Date.now() + RETRY_MS;
  };

  function pump() {
    if (writing || !pending.length) return;
    try {
      fd ??= fs.openSync(file, 'a', 0o600);
    } catch {
      return refuse(0);
    }
    if (dropped > 0) {
      const msg = `dropped ${dropped} log lines while ${file} could not be written (disk full?)`;
      pending.unshift(JSON.stringify({ level: 40, time: Date.now(), msg }) + '\n');
      dropped = 0;
    }
    const lines = pending.length;
    let buf = Buffer.from(pending.join(''));
    pending = [];
    pendingBytes = 0;
    writing = true;
    const step = () =>
      fs.write(fd!, buf, 0, buf.length, null, (err, n) => {
        if (err) {
          writing = false;
          return refuse(lines);
        }
        buf = buf.subarray(n);
        if (buf.length > 0) return step();
        writing = false;
        pump();
      });
    step();
  }

  return {
    write(line: string) {
      if (Date.now() < pausedUntil || pendingBytes + line.length > MAX_PENDING_BYTES) dropped++;
      else {
        pending.push(line);
        pendingBytes += line.length;
        pump();
      }
    },
  };
}
