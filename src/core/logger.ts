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

/** The last `count` lines of the log that `keep` accepts (none when it does not exist), and its size then. */
export function tailLines(file: string, count: number, keep = (_line: string) => true) {
  const found: string[] = [];
  if (!fs.existsSync(file)) return { lines: found, size: 0 };
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let pos = size;
    let rest = '';
    while (pos > 0 && found.length < count) {
      const len = Math.min(64 * 1024, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, pos);
      const parts = (buf.toString('utf8') + rest).split('\n');
      rest = pos > 0 ? parts.shift()! : '';
      for (let i = parts.length - 1; i >= 0 && found.length < count; i--)
        if (parts[i] && keep(parts[i])) found.push(parts[i]);
    }
    return { lines: found.reverse(), size };
  } finally {
    fs.closeSync(fd);
  }
}

/** Calls `onLine` with each line appended to the log from `offset` on (from 0 again once truncated or replaced). */
export function followFile(file: string, offset: number, onLine: (line: string) => void): () => void {
  let partial = '';
  const readMore = () => {
    const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? offset;
    if (size < offset) [offset, partial] = [0, ''];
    if (size === offset) return;
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      const parts = (partial + buf.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) if (l) onLine(l);
    } finally {
      fs.closeSync(fd);
    }
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const watcher = fs.watch(path.dirname(file), (_event, name) => {
    if (!name || name === path.basename(file)) readMore();
  });
  readMore(); // what was written between the tail and the watch
  return () => watcher.close();
}
