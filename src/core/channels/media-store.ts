// Saves media in a group's inbox via staging and no-follow opens: the agent may swap `inbox` for a link anytime.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type MediaSource = Uint8Array | AsyncIterable<Uint8Array>;

export class MediaTooLarge extends Error {}

export class MediaRefused extends Error {}

export interface SaveMediaOptions {
  inbox: string;
  stagingDir?: string;
  name: string;
  open(): Promise<MediaSource>;
  maxBytes: number;
  signal?: AbortSignal;
}

export const REFUSED_NOTE = " (not saved: the group's inbox is not a plain folder)";

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = fs.constants;
const SAFE_NAME = /^[0-9A-Za-z][0-9A-Za-z_-]*(\.[0-9A-Za-z]{1,8})?$/;
// A path under /proc/self/fd/<n> resolves inside that open directory, whatever was renamed since.
const FD_PATHS = process.platform === 'linux' && fs.existsSync('/proc/self/fd');
const COPY_CHUNK = 256 * 1024;

export async function saveMedia(o: SaveMediaOptions): Promise<string> {
  if (!SAFE_NAME.test(o.name)) throw new Error(`Refusing to save media as "${o.name}": not a generated file name`);
  if (path.basename(o.inbox) !== 'inbox')
    throw new Error(`Refusing to save media in ${o.inbox}: not a group's inbox folder`);
  const staged = await stage(o);
  try {
    await place(staged, o.inbox, o.name);
  } finally {
    await fs.promises.rm(staged, { force: true });
  }
  return `inbox/${o.name}`;
}

let privateStaging: string | null = null;

function stagingDirOf(o: SaveMediaOptions): string {
  if (o.stagingDir) return o.stagingDir;
  privateStaging ??= fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-media-'));
  return privateStaging;
}

async function stage(o: SaveMediaOptions): Promise<string> {
  const dir = stagingDirOf(o);
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${crypto.randomBytes(8).toString('hex')}.part`);
  const out = await fs.promises.open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    const source = await o.open();
    const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = source instanceof Uint8Array ? [source] : source;
    let total = 0;
    for await (const chunk of chunks) {
      o.signal?.throwIfAborted();
      total += chunk.byteLength;
      if (total > o.maxBytes) throw new MediaTooLarge(`media larger than ${o.maxBytes} bytes`);
      await out.write(chunk);
    }
    await out.close();
    return file;
  } catch (err) {
    await out.close().catch(() => {});
    await fs.promises.rm(file, { force: true });
    throw err;
  }
}

async function place(staged: string, inbox: string, name: string): Promise<void> {
  const groupDir = path.dirname(inbox);
  // The groups folder is the host's own; the group folder and inbox below it are the agent's.
  await fs.promises.mkdir(groupDir, { recursive: true });
  const expectedGroup = path.join(await fs.promises.realpath(path.dirname(groupDir)), path.basename(groupDir));
  const group = await openDir(groupDir, expectedGroup);
  try {
    const inboxPath = FD_PATHS ? fdPath(group, 'inbox') : path.join(groupDir, 'inbox');
    // mkdir never follows a link in the last place; an existing one is caught by the open below.
    await fs.promises.mkdir(inboxPath).catch((err) => {
      if (err?.code !== 'EEXIST') throw err;
    });
    const dir = await openDir(inboxPath, path.join(expectedGroup, 'inbox'));
    try {
      const dest = FD_PATHS ? fdPath(dir, name) : path.join(groupDir, 'inbox', name);
      const out = await fs.promises.open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
      try {
        if (!FD_PATHS) await checkStillInside(out, dir, path.join(groupDir, 'inbox'), name);
        await copyInto(staged, out);
      } catch (err) {
        await out.close().catch(() => {});
        await fs.promises.rm(dest, { force: true });
        throw err;
      }
      await out.close();
    } finally {
      await dir.close();
    }
  } finally {
    await group.close();
  }
}

async function openDir(p: string, expected: string): Promise<fs.promises.FileHandle> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (['ELOOP', 'ENOTDIR', 'EMLINK'].includes(err.code ?? ''))
      throw new MediaRefused(`${expected} is a link or not a folder`);
    throw err;
  }
  try {
    const where = FD_PATHS ? await fs.promises.readlink(`/proc/self/fd/${handle.fd}`) : await fs.promises.realpath(p);
    if (where !== expected || (!FD_PATHS && !sameFile(await handle.stat(), await fs.promises.lstat(p)))) {
      throw new MediaRefused(`${expected} is not a plain folder of the group (it resolves to ${where})`);
    }
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

function fdPath(dir: fs.promises.FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

// Without /proc a path is the only way in: the file and inbox must still be the ones opened and checked.
async function checkStillInside(
  out: fs.promises.FileHandle,
  dir: fs.promises.FileHandle,
  inbox: string,
  name: string,
): Promise<void> {
  const [file, folder] = await Promise.all([
    fs.promises.lstat(path.join(inbox, name)).catch(() => null),
    fs.promises.lstat(inbox).catch(() => null),
  ]);
  if (!file || !folder || !sameFile(await out.stat(), file) || !sameFile(await dir.stat(), folder)) {
    throw new MediaRefused(`${inbox} changed while the file was being created`);
  }
}

function sameFile(a: fs.Stats, b: fs.Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

async function copyInto(staged: string, out: fs.promises.FileHandle): Promise<void> {
  const src = await fs.promises.open(staged, O_RDONLY | O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(COPY_CHUNK);
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, buf.length, null);
      if (!bytesRead) return;
      let written = 0;
      while (written < bytesRead) written += (await out.write(buf, written, bytesRead - written)).bytesWritten;
    }
  } finally {
    await src.close();
  }
}
