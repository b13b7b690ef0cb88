// send_message's `file`: only a regular file inside the chat's own folder, taken
// as a copy at the moment of the call.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MAX_OUTBOUND_FILE_BYTES, takeOutboundFile } from '../../src/core/tools/outbound-media.js';

let root: string;
let group: string;
let out: string;
const secret = () => path.join(root, 'secret.txt');

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-media-'));
  group = path.join(root, 'groups', 'web');
  out = path.join(root, 'data', 'outbox-media');
  fs.mkdirSync(path.join(group, 'screenshots'), { recursive: true });
  fs.writeFileSync(secret(), 'host secret');
  fs.writeFileSync(path.join(group, 'screenshots', 'page.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test('a file in the folder is copied, by relative path or /workspace/group path', () => {
  for (const file of ['screenshots/page.png', '/workspace/group/screenshots/page.png']) {
    const r = takeOutboundFile(group, file, out);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.fileName).toBe('page.png');
      expect(path.dirname(r.path)).toBe(out);
      expect(fs.readFileSync(r.path).toString('hex')).toBe('89504e470d0a1a0a');
    }
  }
});

test('paths and links leading outside the folder are refused', () => {
  fs.symlinkSync(secret(), path.join(group, 'link.txt'));
  fs.symlinkSync(root, path.join(group, 'up'));
  for (const file of [
    '../../secret.txt',
    '/etc/passwd',
    '/workspace/group/../../secret.txt',
    'link.txt',
    'up/secret.txt',
  ]) {
    const r = takeOutboundFile(group, file, out);
    expect(r.ok, file).toBe(false);
  }
});

test('a FIFO, a folder, a missing file and an oversized file are refused without hanging', () => {
  fs.mkdirSync(path.join(group, 'dir'));
  execFileSync('mkfifo', [path.join(group, 'pipe')]);
  fs.writeFileSync(path.join(group, 'big.bin'), '');
  fs.truncateSync(path.join(group, 'big.bin'), MAX_OUTBOUND_FILE_BYTES + 1);
  const why = (file: string) => {
    const r = takeOutboundFile(group, file, out);
    return r.ok ? 'ok' : r.error;
  };
  expect(why('pipe')).toMatch(/not a regular file/);
  expect(why('dir')).toMatch(/not a regular file/);
  expect(why('nothing.png')).toMatch(/No file "nothing.png"/);
  expect(why('big.bin')).toMatch(/the most send_message takes is 20 MB/);
});
