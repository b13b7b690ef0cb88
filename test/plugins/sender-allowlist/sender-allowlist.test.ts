import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { loadSenderAllowlist } from '../../../src/plugins/sender-allowlist/allowlist.js';

test('the sender allowlist decides who triggers and whether others are kept; a broken file closes it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nc-allow-'));
  const list = loadSenderAllowlist(dir);
  expect(list.canTrigger('tg:-1', 'tg:9')).toBe(true);
  const file = path.join(dir, 'sender-allowlist.json');
  fs.writeFileSync(file, JSON.stringify({ chats: { 'tg:-1': { allow: ['tg:1'], others: 'drop' } } }));
  expect(list.canTrigger('tg:-1', 'tg:1')).toBe(true);
  expect(list.canTrigger('tg:-1', 'tg:9')).toBe(false);
  expect(list.keeps('tg:-1', 'tg:9')).toBe(false);
  expect(list.canTrigger('tg:-2', 'tg:9')).toBe(true);
  fs.writeFileSync(file, '{ not json');
  fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
  expect(list.canTrigger('tg:-2', 'tg:9')).toBe(false);
  expect(list.keeps('tg:-2', 'tg:9')).toBe(true);
  expect(list.problem()).toMatch(/not valid/);
  fs.rmSync(dir, { recursive: true, force: true });
});
