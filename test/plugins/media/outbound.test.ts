// send_message's `file`: only a regular file inside the chat's own folder, taken
// as a copy at the moment of the call, and only when the media plugin is on.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { homePaths } from '../../../src/core/config/home.js';
import { openDatabase } from '../../../src/core/store/db.js';
import { createToolHandler } from '../../../src/core/tools/tools.js';
import { createStore } from '../../../src/host.js';
import { hostMedia } from '../../../src/plugins/media/index.js';
import { MAX_OUTBOUND_FILE_BYTES, takeOutboundFile } from '../../../src/plugins/media/outbound.js';

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

test('send_message sends the copy with the media plugin, and only the text without it', async () => {
  const paths = homePaths(root);
  const identity = { groupFolder: 'web', chatJid: 'local:web', isMain: false, taskId: null };
  const send = { text: 'The page', file: 'screenshots/page.png' };
  const store = createStore(openDatabase(':memory:'));
  const withMedia = createToolHandler({ store, paths, assistantName: 'Andy', media: hostMedia({ store, paths }) });
  expect(await withMedia(identity, 'send_message', send)).toEqual({ ok: true, text: 'Sent, with page.png.' });
  const [item] = store.outbox.pending();
  expect(path.dirname(item.mediaPath!)).toBe(out);
  expect(fs.readFileSync(item.mediaPath!).toString('hex')).toBe('89504e470d0a1a0a');

  const bare = createStore(openDatabase(':memory:'));
  const without = createToolHandler({ store: bare, paths, assistantName: 'Andy' });
  expect(await without(identity, 'send_message', send)).toEqual({
    ok: true,
    text: 'Sent without the file: files cannot be sent on this install.',
  });
  expect(bare.outbox.pending()).toMatchObject([{ text: 'The page', mediaPath: null }]);
});
