// Reading the host's log as it grows: its last lines, then each new one. `nanoclaw logs -f` and the dashboard's Logs
// page both read it this way; the core only writes it.
import fs from 'node:fs';
import path from 'node:path';

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
