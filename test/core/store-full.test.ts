// A full disk under the store: the reserve file (store/reserve) is given up so
// an accepted message is still saved, and it is made again once space is back.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createReserve } from '../../src/plugins/disk-guard/disk-guard.js';
import { openStore } from '../../src/host.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-storefull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
});
afterAll(() => {
  execFileSync('umount', ['-l', dir]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a message arriving on a full disk is stored by giving up the reserve', () => {
  const reserve = createReserve(path.join(dir, 'reserve'), 1024 * 1024);
  expect(reserve.ensure()).toBe(true);
  const store = openStore(path.join(dir, 'messages.db'), { releaseSpace: reserve.release });
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(64 * 1024));
  } catch {
    /* the disk is full */
  } finally {
    fs.closeSync(fd);
  }
  const msg = {
    id: 'm1',
    chatJid: 'local:main',
    sender: 'me',
    senderName: 'Me',
    text: 'x'.repeat(200_000),
    timestamp: new Date().toISOString(),
    fromMe: true,
    fromAssistant: false,
  };
  expect(store.messages.insert(msg, 'local')).not.toBeNull();
  expect(reserve.present()).toBe(false);
  expect(store.messages.insert({ ...msg, id: 'm2', text: 'small' }, 'local')).not.toBeNull();
  fs.rmSync(filler);
  expect(reserve.ensure()).toBe(true);
  expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  store.close();
});
