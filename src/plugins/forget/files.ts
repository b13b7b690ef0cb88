// The files forgetting reads and rewrites: walking a folder without following
// links, telling text from binary, matching lines, and rewriting a file in
// place (same inode, so a logger holding it open keeps appending to it).
import fs from 'node:fs';
import path from 'node:path';

/** Files over this size are not read (media can be large; text that holds messages is not). */
export const MAX_READ = 256 * 1024 * 1024;

/** Every regular file under `dir` (links are never followed); `skip` prunes a subfolder or file. */
export function walk(dir: string, skip: (p: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (skip(p)) continue;
      if (e.isDirectory()) visit(p);
      else if (e.isFile()) out.push(p);
    }
  };
  visit(dir);
  return out;
}

export function readFile(file: string): Buffer | null {
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile() || st.size > MAX_READ) return null;
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}

export const isBinary = (b: Buffer): boolean => b.subarray(0, 8192).includes(0);

/** Decides whether a line (or a file's text, or a name) holds what is being forgotten. */
export interface Matcher {
  /** Any text at all: the phrase, or a name when forgetting a person. */
  line(text: string): boolean;
  /** Bytes (a file's content): the phrase only. */
  bytes(b: Buffer): boolean;
  /** An excerpt around the first match, one line, short. */
  excerpt(text: string): string;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * With a phrase: lines containing it (case-insensitive). With names (a person
 * being forgotten): lines naming them as a word; both given, lines with both.
 */
export function matcher(phrase: string | undefined, names: string[] = []): Matcher {
  const p = phrase?.toLowerCase();
  const nameRes = names
    .filter((n) => n.trim().length >= 2)
    .map((n) => new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRe(n)}($|[^\\p{L}\\p{N}])`, 'iu'));
  const byName = (t: string) => nameRes.some((r) => r.test(t));
  const byPhrase = (t: string) => !!p && t.toLowerCase().includes(p);
  const pBytes = p ? Buffer.from(p, 'utf8').toString('latin1') : null;
  return {
    line: (t) => {
      if (!p && !nameRes.length) return false;
      return (!p || byPhrase(t)) && (!nameRes.length || byName(t));
    },
    bytes: (b) => !!pBytes && !nameRes.length && b.toString('latin1').toLowerCase().includes(pBytes),
    excerpt: (t) => {
      const one = t.replace(/\s+/g, ' ').trim();
      const at = p ? Math.max(0, one.toLowerCase().indexOf(p)) : 0;
      const start = Math.max(0, at - 25);
      const cut = one.slice(start, start + 70);
      return `${start > 0 ? '…' : ''}${cut}${start + 70 < one.length ? '…' : ''}`;
    },
  };
}

/** Lines of a text file that match; null for a file that cannot be read as text. */
export function matchingLines(file: string, m: Matcher): string[] | null {
  const b = readFile(file);
  if (!b || isBinary(b)) return null;
  return b.toString('utf8').split('\n').filter(m.line);
}

/** Rewrites a text file without its matching lines, in place; answers how many went. */
export function removeLines(file: string, m: Matcher): number {
  const b = readFile(file);
  if (!b || isBinary(b)) return 0;
  const lines = b.toString('utf8').split('\n');
  const kept = lines.filter((l) => !m.line(l));
  if (kept.length === lines.length) return 0;
  // Truncate and write the same file: a writer with it open in append mode goes on at the new end.
  fs.writeFileSync(file, kept.join('\n'));
  return lines.length - kept.length;
}

/** Overwrites a file with zeros before unlinking it, so a plain disk read cannot find it again. */
export function eraseFile(file: string): void {
  try {
    const size = fs.lstatSync(file).size;
    const fd = fs.openSync(file, 'r+');
    try {
      const zero = Buffer.alloc(Math.min(size, 1024 * 1024));
      for (let at = 0; at < size; at += zero.length) fs.writeSync(fd, zero, 0, Math.min(zero.length, size - at), at);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* unlink below is what matters */
  }
  fs.rmSync(file, { force: true });
}
