// Saves media in a group's inbox via staging and no-follow opens: the agent may swap `inbox` for a link anytime.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MediaRefused, MediaTooLarge, type InboundFile } from '../../core/channels/plugin.js';

export type SaveMediaOptions = Pick<InboundFile, 'open' | 'maxBytes' | 'signal'> & {
  inbox: string;
  stagingDir?: string;
  name: string;
};

type Handle = fs.promises.FileHandle;
const fsp = fs.promises;
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = fs.constants;
const SAFE_NAME = /^[0-9A-Za-z][0-9A-Za-z_-]*(\.[0-9A-Za-z]{1,8})?$/;
// A path under /proc/self/fd/<n> resolves inside that open directory, whatever was renamed since.
const FD_PATHS = process.platform === 'linux' && fs.existsSync('/proc/self/fd');
const under = (dir: Handle, plainDir: string, name: string) =>
  FD_PATHS ? `/proc/self/fd/${dir.fd}/${name}` : path.join(plainDir, name);
const sameFile = (a: fs.Stats, b: fs.Stats) => a.dev === b.dev && a.ino === b.ino;
let privateStaging: string | null = null;

export async function saveMedia(o: SaveMediaOptions): Promise<string> {
  if (!SAFE_NAME.test(o.name)) throw new Error(`Refusing to save media as "${o.name}": not a generated file name`);
  if (path.basename(o.inbox) !== 'inbox')
    throw new Error(`Refusing to save media in ${o.inbox}: not a group's inbox folder`);
  const dir = o.stagingDir ?? (privateStaging ??= fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-media-')));
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const staged = path.join(dir, `${crypto.randomBytes(8).toString('hex')}.part`);
  try {
    await writeNew(staged, 0o600, (out) => fsp.writeFile(out, capped(o)));
    await place(staged, o.inbox, o.name);
  } finally {
    await fsp.rm(staged, { force: true });
  }
  return `inbox/${o.name}`;
}

async function* capped(o: SaveMediaOptions): AsyncIterable<Uint8Array> {
  const source = await o.open();
  let total = 0;
  for await (const chunk of source instanceof Uint8Array ? [source] : source) {
    o.signal?.throwIfAborted();
    if ((total += chunk.byteLength) > o.maxBytes) throw new MediaTooLarge(`media larger than ${o.maxBytes} bytes`);
    yield chunk;
  }
}

/** Creates `file` (never through or over a link) and fills it; if filling fails, the file is removed. */
async function writeNew(file: string, mode: number, fill: (out: Handle) => Promise<void>): Promise<void> {
  const out = await fsp.open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    await fill(out);
  } catch (err) {
    await out.close().catch(() => {});
    await fsp.rm(file, { force: true });
    throw err;
  }
  await out.close();
}

async function place(staged: string, inbox: string, name: string): Promise<void> {
  const groupDir = path.dirname(inbox);
  const plainInbox = path.join(groupDir, 'inbox');
  // The groups folder is the host's own; the group folder and inbox below it are the agent's.
  await fsp.mkdir(groupDir, { recursive: true });
  const expectedGroup = path.join(await fsp.realpath(path.dirname(groupDir)), path.basename(groupDir));
  await inDir(groupDir, expectedGroup, async (group) => {
    const inboxPath = under(group, groupDir, 'inbox');
    // mkdir never follows a link in the last place; an existing one is caught by the open below.
    await fsp.mkdir(inboxPath).catch((err) => {
      if (err?.code !== 'EEXIST') throw err;
    });
    await inDir(inboxPath, path.join(expectedGroup, 'inbox'), (dir) =>
      writeNew(under(dir, plainInbox, name), 0o644, async (out) => {
        if (!FD_PATHS) await checkStillInside(out, dir, plainInbox, name);
        await fsp.writeFile(out, (await fsp.open(staged, O_RDONLY | O_NOFOLLOW)).createReadStream());
      }),
    );
  });
}

/** Opens the folder at `p` for `use`, refused unless it is `expected` itself: no link, nothing swapped in. */
async function inDir(p: string, expected: string, use: (dir: Handle) => Promise<void>): Promise<void> {
  const dir = await fsp.open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch((err) => {
    throw ['ELOOP', 'ENOTDIR', 'EMLINK'].includes(err?.code)
      ? new MediaRefused(`${expected} is a link or not a folder`)
      : err;
  });
  try {
    const where = FD_PATHS ? await fsp.readlink(`/proc/self/fd/${dir.fd}`) : await fsp.realpath(p);
    if (where !== expected || (!FD_PATHS && !sameFile(await dir.stat(), await fsp.lstat(p))))
      throw new MediaRefused(`${expected} is not a plain folder of the group (it resolves to ${where})`);
    await use(dir);
  } finally {
    await dir.close();
  }
}

// Without /proc a path is the only way in: the file and inbox must still be the ones opened and checked.
async function checkStillInside(out: Handle, dir: Handle, inbox: string, name: string): Promise<void> {
  const [file, folder] = await Promise.all([
    fsp.lstat(path.join(inbox, name)).catch(() => null),
    fsp.lstat(inbox).catch(() => null),
  ]);
  if (!file || !folder || !sameFile(await out.stat(), file) || !sameFile(await dir.stat(), folder))
    throw new MediaRefused(`${inbox} changed while the file was being created`);
}
