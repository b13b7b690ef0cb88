// A file send_message sends is checked and copied at once to a host-only folder: delivery sends what was checked.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const MAX_OUTBOUND_FILE_BYTES = 20 * 1024 * 1024;

const within = (root: string, p: string) => p === root || p.startsWith(root + path.sep);
const no = (error: string) => ({ ok: false as const, error });

/** Copies `file` (relative to the group folder, or under /workspace/group) into `outDir`. */
export function takeOutboundFile(groupDir: string, file: string, outDir: string) {
  const rel = file.startsWith('/workspace/group/') ? file.slice('/workspace/group/'.length) : file;
  const outside = `"${file}" is outside this chat's folder: give a path inside /workspace/group.`;
  if (path.isAbsolute(rel)) return no(outside);
  const root = fs.realpathSync(groupDir);
  const wanted = path.resolve(root, rel);
  if (!within(root, wanted)) return no(outside);
  let fd: number;
  try {
    // Non-blocking: a FIFO must not hang the host; no-follow: the last part must be the file itself.
    fd = fs.openSync(wanted, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return no(code === 'ENOENT' ? `No file "${file}" in this chat's folder.` : `Cannot read "${file}" (${code}).`);
  }
  try {
    // A directory on the way may have been a link: where the open landed must still be inside.
    const real = process.platform === 'linux' ? fs.readlinkSync(`/proc/self/fd/${fd}`) : fs.realpathSync(wanted);
    if (!within(root, real)) return no(`"${file}" leads outside this chat's folder.`);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return no(`"${file}" is not a regular file.`);
    if (st.size > MAX_OUTBOUND_FILE_BYTES)
      return no(`"${file}" is ${Math.ceil(st.size / 1024 / 1024)} MB; the most send_message takes is 20 MB.`);
    const data = Buffer.alloc(st.size);
    let read = 0;
    while (read < st.size) {
      const n = fs.readSync(fd, data, read, st.size - read, read);
      if (!n) break;
      read += n;
    }
    fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
    const fileName =
      path
        .basename(real)
        .replace(/[^\w.\- ]+/g, '_')
        .slice(-100) || 'file';
    // Delivery sends it under the name after the UUID.
    const copy = path.join(outDir, `${crypto.randomUUID()}-${fileName}`);
    fs.writeFileSync(copy, data.subarray(0, read), { mode: 0o600 });
    return { ok: true as const, path: copy, fileName };
  } finally {
    fs.closeSync(fd);
  }
}
