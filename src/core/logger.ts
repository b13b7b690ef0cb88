// Structured logging with pino. The host creates one logger and passes it on.
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
      // Whatever field carries a secret, every line is redacted before it is written anywhere.
      hooks: { streamWrite: redact },
    },
    pino.multistream(streams),
  );
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export interface LogFile {
  write(line: string): boolean;
  flushSync(): void;
  flush(cb?: (err?: Error) => void): void;
  dropped(): number;
  end(): void;
}

// Never throws, never blocks: while the disk refuses lines they are dropped and counted, and writing is
// retried after `retryMs`, so a full disk costs log lines, never the process or its API.
export function createLogFile(file: string, opts: { retryMs?: number; maxPendingBytes?: number } = {}): LogFile {
  const retryMs = opts.retryMs ?? 5_000;
  const maxPending = opts.maxPendingBytes ?? 4 * 1024 * 1024;
  let fd: number | null = null;
  let pending: string[] = [];
  let pendingBytes = 0;
  let writing = false;
  let dropped = 0;
  let droppedSinceNote = 0;
  let pausedUntil = 0;
  let ended = false;
  const flushWaiters: ((err?: Error) => void)[] = [];

  const drop = (n: number) => {
    dropped += n;
    droppedSinceNote += n;
  };
  const clear = () => {
    const lines = pending;
    pending = [];
    pendingBytes = 0;
    return lines;
  };
  const refuse = (lost = 0) => {
    drop(lost + clear().length);
    pausedUntil = Date.now() + retryMs;
  };
  const openFd = (): boolean => {
    try {
      fd ??= fs.openSync(file, 'a', 0o600);
    } catch {
      pausedUntil = Date.now() + retryMs;
    }
    return fd !== null;
  };
  const settle = () => {
    if (!writing && !pending.length) flushWaiters.splice(0).forEach((cb) => cb());
  };
  const take = () => {
    if (droppedSinceNote > 0) {
      const msg = `dropped ${droppedSinceNote} log lines while ${file} could not be written (disk full?)`;
      pending.unshift(JSON.stringify({ level: 40, time: Date.now(), msg }) + '\n');
      droppedSinceNote = 0;
    }
    const lines = clear();
    return { buf: Buffer.from(lines.join('')), lines: lines.length };
  };

  function pump() {
    if (writing || ended || !pending.length) return settle();
    if (!openFd()) return (refuse(), settle());
    writing = true;
    const taken = take();
    let buf = taken.buf;
    const step = () =>
      fs.write(fd!, buf, 0, buf.length, null, (err, n) => {
        if (err) {
          writing = false;
          refuse(taken.lines);
          return settle();
        }
        buf = buf.subarray(n);
        if (buf.length > 0) return step();
        writing = false;
        pump();
      });
    step();
  }

  return {
    write(line) {
      if (ended) return true;
      if (Date.now() < pausedUntil || pendingBytes + line.length > maxPending) drop(1);
      else {
        pending.push(line);
        pendingBytes += line.length;
        pump();
      }
      return true;
    },
    flushSync() {
      if (writing || !pending.length || Date.now() < pausedUntil || !openFd()) return;
      const { buf, lines } = take();
      try {
        fs.writeSync(fd!, buf);
      } catch {
        refuse(lines);
      }
    },
    flush(cb = () => {}) {
      flushWaiters.push(cb);
      settle();
    },
    dropped: () => dropped,
    end() {
      ended = true;
      if (fd !== null && !writing) {
        try {
          fs.closeSync(fd);
        } catch {
          /* nothing to save */
        }
        fd = null;
      }
      flushWaiters.splice(0).forEach((cb) => cb());
    },
  };
}
