// "Ask me first" for host folders, enforced by the sandbox rather than by
// reading commands. A writable extra mount whose chat has mount_write = ask is
// never mounted itself: the sandbox gets a private copy (the staging folder)
// at the same path. After each tool call and at the end of a turn the host
// compares that copy with the snapshot it took, freezes what changed (so the
// sandbox cannot swap it after the owner looked), asks the owner once for the
// whole set, and on yes applies exactly that set to the host folder, refusing
// if the host folder changed meanwhile. On no the copy goes back to the host's
// state. A plain private copy works the same on bwrap, docker and podman.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Mount } from '../../core/types.js';

export interface StagingLimits {
  /** The most a staged folder (host copy or staged changes) may hold, in bytes. */
  maxBytes: number;
  /** The most entries (files, folders, links) a staged folder may hold. */
  maxEntries: number;
  /** Text files up to this size get a diff; larger or binary ones only size and sha256. */
  maxDiffBytes: number;
}

export const DEFAULT_STAGING_LIMITS: StagingLimits = {
  maxBytes: 512 * 1024 * 1024,
  maxEntries: 20_000,
  maxDiffBytes: 64 * 1024,
};

/** NANOCLAW_STAGING_MAX_MB: how large a host folder may be to be staged (default 512 MB). */
export function stagingLimits(env: Readonly<Record<string, string | undefined>>): StagingLimits {
  const mb = Number(env.NANOCLAW_STAGING_MAX_MB);
  return Number.isFinite(mb) && mb > 0
    ? { ...DEFAULT_STAGING_LIMITS, maxBytes: mb * 1024 * 1024 }
    : DEFAULT_STAGING_LIMITS;
}

export type Entry =
  | { type: 'dir'; mode: number }
  | { type: 'file'; mode: number; size: number; sha256: string; nlink: number }
  | { type: 'symlink'; target: string }
  /** FIFOs, sockets, devices: never copied, never applied. */
  | { type: 'other' };

const size = (n: number) => (n >= 1048576 ? `${Math.round(n / 1048576)} MB` : `${n} bytes`);

/** Path relative to the folder's root (posix) → what is there. */
export type Snapshot = Map<string, Entry>;

export class StagingError extends Error {}

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const O_DIRECTORY = fs.constants.O_DIRECTORY ?? 0;
const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;
// Linux's O_PATH on x86 and arm (Node does not export it): pins a folder the host may not read, to chmod it.
const O_PATH = 0o10000000;
const DIR = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

/*
 * The sandbox keeps writing to its staging copy while the host walks, resets and freezes it, so it can swap a
 * folder for a link between the host's check and its use. Node has no openat, so every path inside a staging
 * copy goes through /proc/self/fd/<fd>/<name>: the folder already opened is pinned, only the last name is looked
 * up, and that name is never followed (O_NOFOLLOW, lstat, unlink, rmdir, mkdir, symlink, lchown). Without
 * /proc/self/fd (macOS) there is no such walk, so staging is refused there rather than done racily.
 */
const PROC_FD = '/proc/self/fd';
let procChecked: boolean | undefined;
function requirePinning(): void {
  procChecked ??= process.platform === 'linux' && fs.existsSync(PROC_FD);
  if (!procChecked) throw new StagingError('"ask me first" folders need Linux (/proc/self/fd) to be staged safely');
}

/** The path of the opened folder `fd` itself, or of `name` in it, resolved by name for that last step only. */
const proc = (fd: number) => `${PROC_FD}/${fd}`;
const inside = (dirFd: number, name: string) => `${PROC_FD}/${dirFd}/${name}`;

/** A failure on a path the sandbox can change: said as what it most likely is. */
function swapped(rel: string, err: unknown): Error {
  if (err instanceof StagingError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ELOOP' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST';
  return new StagingError(
    why
      ? `${rel || '.'} was swapped while the host worked on the staged copy (${code}); nothing outside it was touched`
      : `${rel || '.'}: ${(err as Error).message}`,
  );
}

/** Opens `root`/`relDir` one folder at a time; a link or a non-folder on the way is refused. */
function openDirInside(root: string, relDir: string): number {
  // The root is chosen by the host and not writable by the sandbox (a mount point there).
  let fd = fs.openSync(root, O_RDONLY | O_DIRECTORY);
  for (const name of relDir.split('/')) {
    if (name === '' || name === '.') continue;
    try {
      if (name === '..') throw new StagingError(`${relDir}: ".." is not a folder name`);
      const next = fs.openSync(inside(fd, name), DIR);
      fs.closeSync(fd);
      fd = next;
    } catch (err) {
      fs.closeSync(fd);
      throw swapped(relDir, err);
    }
  }
  return fd;
}

/** Runs `fn` on the pinned parent folder of `rel` under `root` and `rel`'s last name. */
function atInside<T>(root: string, rel: string, fn: (dirFd: number, name: string) => T): T {
  const dirFd = openDirInside(root, path.posix.dirname(rel));
  try {
    return fn(dirFd, path.posix.basename(rel));
  } catch (err) {
    throw swapped(rel, err);
  } finally {
    fs.closeSync(dirFd);
  }
}

/** chmod of the folder `name` in `dirFd`, through an O_PATH fd: works without read access, never follows a link. */
function chmodDirIn(dirFd: number, name: string, mode: number): void {
  const fd = fs.openSync(inside(dirFd, name), O_PATH | O_DIRECTORY | O_NOFOLLOW);
  try {
    fs.chmodSync(proc(fd), mode);
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens a regular file for reading: no link followed, no FIFO waited on, anything else refused. */
function openFileIn(dirFd: number, name: string, rel: string): { fd: number; st: fs.BigIntStats } {
  const fd = fs.openSync(inside(dirFd, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  const st = fs.fstatSync(fd, { bigint: true });
  if (st.isFile()) return { fd, st };
  fs.closeSync(fd);
  throw new StagingError(`${rel} was swapped for something that is not a file while the host read it`);
}

/** Reads `fd` to its end in chunks, refusing more than `max` bytes (a file that keeps growing). */
function readAll(fd: number, max: number, rel: string, chunk: (b: Buffer) => void, tooBig?: string): void {
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let total = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n <= 0) return;
    total += n;
    if (total > max) throw new StagingError(tooBig ?? `${rel} grew past ${size(max)} while the host read it`);
    chunk(buf.subarray(0, n));
  }
}

/**
 * Hashes already computed, by path and inode/size/mtime/ctime: a settle after
 * every tool call then reads only what changed (ctime cannot be set back).
 */
export type HashCache = Map<string, { key: string; sha256: string }>;

/** What is at `file` (a host path), by lstat: a link is described, never followed. Linux only, as staging is. */
export function entryAt(file: string, cache?: HashCache): Entry | null {
  let dirFd: number;
  try {
    dirFd = fs.openSync(path.dirname(file), O_RDONLY | O_DIRECTORY);
  } catch {
    return null;
  }
  try {
    return entryIn(dirFd, path.basename(file), file, Infinity, cache);
  } finally {
    fs.closeSync(dirFd);
  }
}

/** What is at `name` in the opened folder `dirFd`; a file is hashed through its own fd, at most `max` bytes. */
function entryIn(dirFd: number, name: string, rel: string, max: number, cache?: HashCache, big?: string): Entry | null {
  const p = inside(dirFd, name);
  let st: fs.BigIntStats;
  try {
    st = fs.lstatSync(p, { bigint: true });
  } catch {
    return null;
  }
  if (st.isSymbolicLink()) return { type: 'symlink', target: fs.readlinkSync(p) };
  if (st.isDirectory()) return { type: 'dir', mode: Number(st.mode & 0o7777n) };
  if (!st.isFile()) return { type: 'other' };
  const key = (s: fs.BigIntStats) => `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  const file = (s: fs.BigIntStats, sha256: string): Entry => {
    cache?.set(rel, { key: key(s), sha256 });
    return { type: 'file', mode: Number(s.mode & 0o7777n), size: Number(s.size), sha256, nlink: Number(s.nlink) };
  };
  const known = cache?.get(rel);
  if (known?.key === key(st)) return file(st, known.sha256);
  // Described as opened (fstat), not as lstat saw it: the name may have been swapped in between.
  const { fd, st: opened } = openFileIn(dirFd, name, rel);
  try {
    const h = crypto.createHash('sha256');
    readAll(fd, max, rel, (b) => h.update(b), big);
    return file(opened, h.digest('hex'));
  } finally {
    fs.closeSync(fd);
  }
}

/** Every entry under `root`, bounded: a folder too large to stage is an error that says so. */
export function snapshot(root: string, limits: StagingLimits, what = root, cache?: HashCache): Snapshot {
  requirePinning();
  const tooBig = `${what} holds more than ${size(limits.maxBytes)}`;
  const out: Snapshot = new Map();
  let bytes = 0;
  const list = (rel: string, dirFd: number) => {
    try {
      return fs.readdirSync(proc(dirFd)).sort();
    } catch (err) {
      throw swapped(rel, err);
    }
  };
  const walk = (rel: string, dirFd: number) => {
    for (const name of list(rel, dirFd)) {
      const r = rel ? `${rel}/${name}` : name;
      let e: Entry | null;
      try {
        // What is left of the limit: a huge file is refused after reading that much, not hashed whole.
        e = entryIn(dirFd, name, r, limits.maxBytes - bytes, cache, tooBig);
      } catch (err) {
        throw swapped(r, err);
      }
      if (!e) continue;
      out.set(r, e);
      if (out.size > limits.maxEntries)
        throw new StagingError(`${what} holds more than ${limits.maxEntries} files and folders`);
      if (e.type === 'file') {
        bytes += e.size;
        if (bytes > limits.maxBytes) throw new StagingError(tooBig);
      }
      if (e.type !== 'dir') continue;
      let sub: number;
      try {
        sub = fs.openSync(inside(dirFd, name), DIR);
      } catch (err) {
        throw swapped(r, err);
      }
      try {
        walk(r, sub);
      } finally {
        fs.closeSync(sub);
      }
    }
  };
  const fd = openDirInside(root, '');
  try {
    walk('', fd);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/**
 * Copies `src` into the empty folder `dst`, links as links; answers the snapshot of what was copied.
 * A root host gives the copies to `owner` (the sandbox's uid, as the runtime chowned the folder at start).
 * Every write into `dst` goes through a pinned parent: `dst` may be a running sandbox's copy.
 */
function copyInto(src: string, dst: string, limits: StagingLimits, owner?: { uid: number; gid: number }): Snapshot {
  const snap = snapshot(src, limits);
  const chown = owner && process.getuid?.() === 0 && owner.uid !== 0;
  for (const [rel, e] of snap) {
    atInside(dst, rel, (dirFd, name) => {
      const to = inside(dirFd, name);
      if (e.type === 'dir') fs.mkdirSync(to, { mode: 0o700 });
      else if (e.type === 'symlink') fs.symlinkSync(e.target, to);
      if (e.type === 'file') {
        const from = atInside(src, rel, (d, n) => openFileIn(d, n, rel).fd);
        try {
          const out = fs.openSync(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
          try {
            readAll(from, limits.maxBytes, rel, (b) => fs.writeSync(out, b));
            if (chown) fs.fchownSync(out, owner.uid, owner.gid);
            fs.fchmodSync(out, e.mode);
          } finally {
            fs.closeSync(out);
          }
        } finally {
          fs.closeSync(from);
        }
      } else if (chown && e.type !== 'other') fs.lchownSync(to, owner.uid, owner.gid);
    });
  }
  // Folder modes last, deep to shallow: a read-only folder must first receive its contents.
  for (const [rel, e] of [...snap].reverse()) {
    if (e.type === 'dir') atInside(dst, rel, (dirFd, name) => chmodDirIn(dirFd, name, e.mode));
  }
  return snap;
}

/** Empties a folder the sandbox wrote to, whatever modes it left; the folder itself stays (it is mounted). */
function clearDir(dir: string): void {
  fs.chmodSync(dir, 0o700);
  const fd = openDirInside(dir, '');
  try {
    clearIn(fd, '');
  } finally {
    fs.closeSync(fd);
  }
}

function clearIn(dirFd: number, rel: string): void {
  for (const name of fs.readdirSync(proc(dirFd))) {
    const r = rel ? `${rel}/${name}` : name;
    try {
      const p = inside(dirFd, name);
      // unlink and rmdir never follow the last name; a folder swapped for a link fails, it is not entered.
      if (!fs.lstatSync(p).isDirectory()) {
        fs.unlinkSync(p);
        continue;
      }
      chmodDirIn(dirFd, name, 0o700);
      const sub = fs.openSync(p, DIR);
      try {
        clearIn(sub, r);
      } finally {
        fs.closeSync(sub);
      }
      fs.rmdirSync(p);
    } catch (err) {
      throw swapped(r, err);
    }
  }
}

export interface StagedMount {
  /** Where the sandbox sees it (/workspace/extra/<name>). */
  containerPath: string;
  /** The real host folder: never mounted writable while staged. */
  hostPath: string;
  /** The private copy the sandbox writes to. */
  dir: string;
  /** The host folder's state as the staging copy started from (and as approved changes left it). */
  base: Snapshot;
  /** Hashes of the staging copy's files, so unchanged ones are not read again. */
  hashes: HashCache;
}

export function stageMount(hostPath: string, containerPath: string, dir: string, limits: StagingLimits): StagedMount {
  requirePinning();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  clearDir(dir);
  const base = copyInto(hostPath, dir, limits);
  fs.chmodSync(dir, fs.lstatSync(hostPath).mode & 0o7777);
  return { containerPath, hostPath, dir, base, hashes: new Map() };
}

/** Puts the staging copy back to what the host folder holds now. */
export function resetStaging(m: StagedMount, limits: StagingLimits): void {
  const { uid, gid } = fs.lstatSync(m.dir);
  clearDir(m.dir);
  m.hashes.clear();
  m.base = copyInto(m.hostPath, m.dir, limits, { uid, gid });
  fs.chmodSync(m.dir, fs.lstatSync(m.hostPath).mode & 0o7777);
}

export type Change =
  | {
      op: 'create' | 'change';
      path: string;
      entry: Entry;
      old?: Entry;
      frozen?: string;
      diff?: string;
      refused?: string;
    }
  | { op: 'delete'; path: string; old: Entry }
  | { op: 'rename'; from: string; path: string; entry: Entry; old: Entry; frozen: string };

export interface ChangeSet {
  mount: StagedMount;
  changes: Change[];
}

const same = (a: Entry | undefined | null, b: Entry | undefined | null): boolean => {
  if (!a || !b) return !a && !b;
  if (a.type !== b.type) return false;
  if (a.type === 'file' && b.type === 'file') return a.sha256 === b.sha256 && a.size === b.size && a.mode === b.mode;
  if (a.type === 'dir' && b.type === 'dir') return a.mode === b.mode;
  if (a.type === 'symlink' && b.type === 'symlink') return a.target === b.target;
  return true;
};

/**
 * Where a link placed at `rel` would lead, relative to its folder, if it stays
 * inside the mount; null if it leads out. An absolute target under the mount's
 * container path is made relative, so the link works on the host too.
 */
export function linkInside(rel: string, target: string, containerPath: string): string | null {
  const dir = path.posix.dirname(rel);
  let inMount: string;
  if (target.startsWith('/')) {
    const abs = path.posix.normalize(target);
    if (abs !== containerPath && !abs.startsWith(containerPath + '/')) return null;
    inMount = abs.slice(containerPath.length + 1);
    return path.posix.relative(dir, inMount || '.') || '.';
  }
  inMount = path.posix.normalize(path.posix.join(dir, target));
  if (inMount === '..' || inMount.startsWith('../')) return null;
  return target;
}

function isText(buf: Buffer): boolean {
  if (buf.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

const MAX_DIFF_LINES = 40;

/** A short line diff (longest common subsequence, one line of context), or null when it would not help. */
export function shortDiff(before: string, after: string): string {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  if (a.length * b.length > 4_000_000) return `  (${a.length} → ${b.length} lines; too long to compare here)`;
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { t: ' ' | '-' | '+'; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ t: ' ', line: a[i]! });
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
      ops.push({ t: '-', line: a[i++]! });
    else ops.push({ t: '+', line: b[j++]! });
  }
  const keep = ops.map(
    (o, k) =>
      o.t !== ' ' || ops[k - 1]?.t === '-' || ops[k - 1]?.t === '+' || ops[k + 1]?.t === '-' || ops[k + 1]?.t === '+',
  );
  const lines: string[] = [];
  ops.forEach((o, k) => {
    if (keep[k]) lines.push(`  ${o.t}${o.line}`);
    else if (keep[k - 1]) lines.push('  …');
  });
  if (lines.length > MAX_DIFF_LINES)
    return [...lines.slice(0, MAX_DIFF_LINES), `  … ${lines.length - MAX_DIFF_LINES} more lines`].join('\n');
  return lines.join('\n');
}

/**
 * What the sandbox changed in a staged folder since its base, with every new
 * file's content copied to `frozenDir` (outside any sandbox): a yes applies
 * those copies, whatever the staging folder holds by then.
 */
export function collectChanges(m: StagedMount, frozenDir: string, limits: StagingLimits): ChangeSet {
  const now = snapshot(m.dir, limits, `the staged copy of ${m.containerPath}`, m.hashes);
  fs.mkdirSync(frozenDir, { recursive: true, mode: 0o700 });
  const changes: Change[] = [];
  const freeze = (rel: string, e: Entry & { type: 'file' }): string => {
    const to = path.join(frozenDir, crypto.randomBytes(8).toString('hex'));
    const { fd } = atInside(m.dir, rel, (dirFd, name) => openFileIn(dirFd, name, rel));
    try {
      const out = fs.openSync(to, 'wx', 0o600);
      const h = crypto.createHash('sha256');
      let n = 0;
      try {
        // Bounded: a file that keeps growing after the walk does not make the host copy without end.
        readAll(fd, limits.maxBytes, rel, (b) => {
          h.update(b);
          fs.writeSync(out, b);
          n += b.length;
        });
      } finally {
        fs.closeSync(out);
      }
      // Changed between the walk and the copy: describe what was copied, which is what a yes applies.
      const sha256 = h.digest('hex');
      if (sha256 !== e.sha256) Object.assign(e, { sha256, size: n });
    } finally {
      fs.closeSync(fd);
    }
    return to;
  };
  const textOf = (file: string, size: number): string | null => {
    if (size > limits.maxDiffBytes) return null;
    const buf = fs.readFileSync(file);
    return isText(buf) ? buf.toString('utf8') : null;
  };
  for (const [rel, e] of now) {
    const old = m.base.get(rel);
    if (same(old, e)) continue;
    if (e.type === 'other') {
      changes.push({
        op: 'create',
        path: rel,
        entry: e,
        refused: 'not a file, folder or link (a FIFO, socket or device)',
      });
      continue;
    }
    const op = old ? 'change' : 'create';
    if (e.type === 'symlink') {
      const inside = linkInside(rel, e.target, m.containerPath);
      changes.push(
        inside === null
          ? { op, path: rel, entry: e, old, refused: 'it leads outside the folder' }
          : { op, path: rel, entry: { type: 'symlink', target: inside }, old },
      );
      continue;
    }
    if (e.type === 'file') {
      const frozen = freeze(rel, e);
      let diff: string | undefined;
      const after = textOf(frozen, e.size);
      const before = old?.type === 'file' ? textOf(path.join(m.hostPath, rel), old.size) : old ? null : '';
      if (after !== null && before !== null && (old?.type !== 'file' || old.sha256 !== e.sha256))
        diff = shortDiff(before, after);
      changes.push({ op, path: rel, entry: e, old, frozen, diff });
      continue;
    }
    changes.push({ op, path: rel, entry: e, old });
  }
  // A FIFO or device on the host was never copied in: its absence here is not a deletion.
  for (const [rel, old] of m.base)
    if (!now.has(rel) && old.type !== 'other') changes.push({ op: 'delete', path: rel, old });
  // A file deleted in one place and created, identical, in another was renamed.
  for (const del of [...changes]) {
    if (del.op !== 'delete' || del.old.type !== 'file') continue;
    const gone = del.old;
    const k = changes.findIndex(
      (c) => c.op === 'create' && !c.refused && c.entry.type === 'file' && c.entry.sha256 === gone.sha256 && !!c.frozen,
    );
    if (k < 0) continue;
    const c = changes[k] as Extract<Change, { op: 'create' | 'change' }>;
    changes.splice(k, 1, { op: 'rename', from: del.path, path: c.path, entry: c.entry, old: gone, frozen: c.frozen! });
    changes.splice(changes.indexOf(del), 1);
  }
  return { mount: m, changes };
}

const mode = (n: number) => n.toString(8).padStart(3, '0');
const mb = (n: number) => (n >= 1048576 ? ` = ${(n / 1048576).toFixed(1)} MB` : '');

function describeFile(e: Entry & { type: 'file' }): string {
  return `${e.size} bytes${mb(e.size)}, sha256 ${e.sha256}, mode ${mode(e.mode)}${e.nlink > 1 ? `, a hard link (${e.nlink} names; applied as a copy)` : ''}`;
}

function describeChange(c: Change, root: string): string {
  const at = (rel: string) => `${root}/${rel}`;
  if (c.op === 'delete') {
    const what =
      c.old.type === 'file'
        ? ` (${c.old.size} bytes, sha256 ${c.old.sha256})`
        : c.old.type === 'dir'
          ? ' (folder)'
          : '';
    return `deleted ${at(c.path)}${what}`;
  }
  if (c.op === 'rename')
    return `renamed ${at(c.from)} → ${at(c.path)} (${describeFile(c.entry as Entry & { type: 'file' })})`;
  const e = c.entry;
  const verb = c.op === 'create' ? 'created' : 'changed';
  if (c.refused) {
    const what = e.type === 'symlink' ? `link ${at(c.path)} → ${e.target}` : at(c.path);
    return `refused (${c.refused}; it will not be applied): ${what}`;
  }
  if (e.type === 'symlink') return `${verb} link ${at(c.path)} → ${e.target}`;
  if (e.type === 'dir') {
    if (c.old?.type === 'dir') return `mode ${at(c.path)}/ ${mode(c.old.mode)} → ${mode(e.mode)}`;
    return `created folder ${at(c.path)}/ (mode ${mode(e.mode)})`;
  }
  if (e.type !== 'file') return `${verb} ${at(c.path)}`;
  const old = c.old;
  if (old?.type === 'file' && old.sha256 === e.sha256) return `mode ${at(c.path)} ${mode(old.mode)} → ${mode(e.mode)}`;
  const was =
    old?.type === 'file' ? ` (was ${old.size} bytes, sha256 ${old.sha256})` : old ? ` (was a ${old.type})` : '';
  const lines = [`${verb} ${at(c.path)}: ${describeFile(e)}${was}`];
  lines.push(c.diff ?? (e.size > 0 ? '  (binary or large: no diff)' : '  (empty)'));
  return lines.join('\n');
}

/** The whole change set as the owner sees it, and as a yes approves it. */
export function describeChangeSets(sets: ChangeSet[]): string {
  return sets
    .filter((s) => s.changes.length)
    .map((s) => {
      const n = s.changes.length;
      const head = `${n} change${n === 1 ? '' : 's'} to the host folder ${s.mount.containerPath} (on this machine: ${s.mount.hostPath}):`;
      return [head, ...s.changes.map((c) => describeChange(c, s.mount.containerPath))].join('\n');
    })
    .join('\n\n');
}

/**
 * The real folder for `rel`'s parent under `root`, walked one name at a time
 * with lstat: a link anywhere on the way is refused, never followed.
 */
function parentOnHost(root: string, rel: string): string {
  let dir = root;
  for (const name of path.posix.dirname(rel).split('/')) {
    if (name === '.' || name === '') continue;
    dir = path.join(dir, name);
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || st.isSymbolicLink())
      throw new StagingError(`${rel}: ${path.posix.dirname(rel)} is not a plain folder on the host`);
  }
  return dir;
}

/** Writes a frozen copy into place: a new file opened without following links, then renamed over the target. */
function placeFile(root: string, rel: string, frozen: string, fileMode: number): void {
  const dir = parentOnHost(root, rel);
  const tmp = path.join(dir, `.nanoclaw-${crypto.randomBytes(6).toString('hex')}`);
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW;
  const fd = fs.openSync(tmp, flags, 0o600);
  try {
    const data = fs.readFileSync(frozen);
    fs.writeSync(fd, data);
    fs.fchmodSync(fd, fileMode);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, path.posix.basename(rel)));
}

/** Paths that differ on the host from what the change set was computed against. */
function conflicts(set: ChangeSet): string[] {
  const out: string[] = [];
  for (const c of set.changes) {
    if ('refused' in c && c.refused) continue;
    for (const rel of c.op === 'rename' ? [c.from, c.path] : [c.path]) {
      let now: Entry | null;
      try {
        parentOnHost(set.mount.hostPath, rel);
        now = entryAt(path.join(set.mount.hostPath, rel));
      } catch (err) {
        // A parent the set itself creates is simply absent; a parent that became a link is a change.
        now = (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : { type: 'other' };
      }
      if (!same(now, set.mount.base.get(rel))) out.push(`${set.mount.containerPath}/${rel}`);
    }
  }
  return out;
}

export type ApplyResult = { ok: true } | { ok: false; conflicts: string[] } | { ok: false; error: string };

/**
 * Applies exactly the approved set to the host folder, after checking that
 * nothing it touches changed on the host since the snapshot; all or nothing
 * as far as that check goes. The base moves to the state the set leaves.
 */
export function applyChangeSet(set: ChangeSet): ApplyResult {
  const bad = conflicts(set);
  if (bad.length) return { ok: false, conflicts: bad };
  const { hostPath: root, base } = set.mount;
  const live = set.changes.filter((c) => !('refused' in c && c.refused));
  const depth = (p: string) => p.split('/').length;
  try {
    // Folders first, shallow to deep; then files and links; deletions last, deep to shallow.
    const dirs = live
      .filter((c) => c.op !== 'delete' && c.entry.type === 'dir')
      .sort((a, b) => depth(a.path) - depth(b.path));
    for (const c of dirs) {
      if (c.op === 'delete' || c.entry.type !== 'dir') continue;
      const target = path.join(parentOnHost(root, c.path), path.posix.basename(c.path));
      if (c.old && c.old.type !== 'dir') fs.rmSync(target, { force: true });
      if (c.old?.type !== 'dir') fs.mkdirSync(target, { mode: 0o700 });
      base.set(c.path, c.entry);
    }
    for (const c of live) {
      if (c.op === 'delete' || c.entry.type === 'dir') continue;
      const target = path.join(parentOnHost(root, c.path), path.posix.basename(c.path));
      if (c.op !== 'rename' && c.old?.type === 'dir') fs.rmSync(target, { recursive: true, force: true });
      if (c.entry.type === 'symlink') {
        fs.rmSync(target, { force: true });
        fs.symlinkSync(c.entry.target, target);
      } else if (c.entry.type === 'file' && 'frozen' in c && c.frozen) placeFile(root, c.path, c.frozen, c.entry.mode);
      if (c.op === 'rename') {
        fs.unlinkSync(path.join(parentOnHost(root, c.from), path.posix.basename(c.from)));
        base.delete(c.from);
      }
      base.set(c.path, c.entry.type === 'file' ? { ...c.entry, nlink: 1 } : c.entry);
    }
    const dels = live.filter((c) => c.op === 'delete').sort((a, b) => depth(b.path) - depth(a.path));
    for (const c of dels) {
      const target = path.join(parentOnHost(root, c.path), path.posix.basename(c.path));
      if (c.op === 'delete' && c.old.type === 'dir') fs.rmdirSync(target);
      else fs.unlinkSync(target);
      base.delete(c.path);
    }
    // Folder modes last, so a folder made read-only still received its files.
    for (const c of dirs)
      if (c.op !== 'delete' && c.entry.type === 'dir') fs.chmodSync(path.join(root, c.path), c.entry.mode);
    // What was refused stays in the sandbox's copy only; it is not asked about again.
    for (const c of set.changes) if ('refused' in c && c.refused) base.set(c.path, c.entry);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  return { ok: true };
}

/** At start: staging copies left by a host that stopped were never approved, and no sandbox uses them now. */
export function clearStaleStaging(dataDir: string): void {
  fs.rmSync(path.join(dataDir, 'staging'), { recursive: true, force: true });
}

export interface StagingSessionDeps {
  /** Extra mounts as the allowlist resolved them. */
  mounts: Mount[];
  /** Which of them to stage (writable ones whose chat asks about writes). */
  stage(m: Mount): boolean;
  /** A private folder for this sandbox's staging copies and frozen changes, never mounted itself. */
  workDir: string;
  limits: StagingLimits;
  /** Asks the owner once for the described set; resolves with the answer. */
  ask(detail: string, what: string): Promise<{ approved: boolean; message: string }>;
  /** Something the owner should know (a yes that could not be applied). */
  tellOwner(text: string): void;
}

/**
 * The staging for one sandbox: the mounts to give it, and `settle`, which
 * turns whatever the sandbox changed into one question for the owner and
 * answers what the agent should be told (null: nothing changed).
 */
export function createStagingSession(deps: StagingSessionDeps) {
  const staged: StagedMount[] = [];
  const mounts = deps.mounts.map((m, i) => {
    if (m.readonly || !deps.stage(m)) return m;
    try {
      const s = stageMount(m.hostPath, m.containerPath, path.join(deps.workDir, `mount-${i}`), deps.limits);
      staged.push(s);
      return { ...m, hostPath: s.dir };
    } catch (err) {
      const why = err instanceof StagingError ? err.message : `it could not be copied (${(err as Error).message})`;
      throw new StagingError(
        `the host folder for ${m.containerPath} cannot be staged for "ask me first": ${why}. ` +
          'Mount it read-only, or set approvals.policy.mount_write to "allow" for this chat.',
      );
    }
  });
  let chain: Promise<unknown> = Promise.resolve();
  let round = 0;

  /** Puts copies back; one the sandbox foils (by swapping while it is reset) is said, not thrown. */
  function reset(ms: StagedMount[]): string {
    const failed: string[] = [];
    for (const m of ms) {
      try {
        resetStaging(m, deps.limits);
      } catch (err) {
        failed.push(`${m.containerPath}: ${(err as Error).message}`);
      }
    }
    if (!failed.length) return '';
    const why = failed.join('; ');
    deps.tellOwner(`A staged copy could not be put back to the host's state (${why}); the host folder is untouched.`);
    return ` The staged copy could not be put back to the host's state: ${why}.`;
  }

  async function settleNow(): Promise<string | null> {
    if (!staged.length) return null;
    const frozen = path.join(deps.workDir, `frozen-${++round}`);
    let sets: ChangeSet[];
    try {
      sets = staged.map((m) => collectChanges(m, frozen, deps.limits)).filter((s) => s.changes.length);
    } catch (err) {
      const notReset = reset(staged);
      fs.rmSync(frozen, { recursive: true, force: true });
      const why = (err as Error).message;
      return (
        `Your changes to the host folder were discarded without asking the owner: ${why}. ` +
        `Keep large work in /workspace/group.${notReset}`
      );
    }
    try {
      if (!sets.length) return null;
      const n = sets.reduce((k, s) => k + s.changes.length, 0);
      const detail = describeChangeSets(sets);
      if (sets.every((s) => s.changes.every((c) => 'refused' in c && c.refused))) {
        for (const s of sets) applyChangeSet(s);
        return `Not written to the host folder, and the owner was not asked:\n${detail}`;
      }
      const answer = await deps.ask(detail, `make ${n} change${n === 1 ? '' : 's'} to a host folder`);
      if (!answer.approved) {
        const notReset = reset(sets.map((s) => s.mount));
        const after = notReset ? `.${notReset}` : '; it is back as it was.';
        return `${answer.message} Your changes to the host folder were discarded${after}`;
      }
      const failed: string[] = [];
      for (const s of sets) {
        const r = applyChangeSet(s);
        if (r.ok) continue;
        failed.push('conflicts' in r ? `${r.conflicts.join(', ')} changed on the host meanwhile` : r.error);
        const notReset = reset([s.mount]);
        if (notReset) failed.push(notReset.trim());
      }
      if (failed.length) {
        const why = failed.join('; ');
        deps.tellOwner(`Not applied: ${why}. Nothing of that folder's change set was written; the agent is told.`);
        return `The owner approved, but the change set was not applied: ${why}. The folder now shows the host's current state.`;
      }
      return 'The owner approved; your changes were applied to the host folder.';
    } finally {
      fs.rmSync(frozen, { recursive: true, force: true });
    }
  }

  return {
    mounts,
    staged: staged.length > 0,
    /** One at a time: parallel tool calls settle in turn, the later ones seeing no change. */
    settle(): Promise<string | null> {
      const next = chain.then(settleNow, settleNow);
      chain = next.catch(() => {});
      return next;
    },
    dispose(): void {
      fs.rmSync(deps.workDir, { recursive: true, force: true });
    },
  };
}
