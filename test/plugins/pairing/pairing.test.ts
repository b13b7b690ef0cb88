import { createStore } from '../../../src/host.js';
import { CHANNELS } from '../../../src/plugins/index.js';
import { expect, test } from 'vitest';
import { folderForName, isDirectChat, MAX_PENDING, PAIRING_TTL_MS } from '../../../src/plugins/pairing/pairing.js';
import { pairingQueries } from '../../../src/plugins/pairing/store.js';
import { openDatabase } from '../../../src/core/store/db.js';

test('codes are one per chat, at most three wait, and they expire after an hour', () => {
  let now = Date.parse('2026-05-01T10:00:00Z');
  const p = pairingQueries(createStore(openDatabase(':memory:')).db, () => now);
  const a = p.request('telegram', 'tg:1', 'tg:1', 'A')!;
  expect(a.code).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
  expect(p.request('telegram', 'tg:1', 'tg:1', 'A')).toEqual({ code: a.code, isNew: false });
  p.request('telegram', 'tg:2', 'tg:2', 'B');
  p.request('telegram', 'tg:3', 'tg:3', 'C');
  expect(p.pending()).toHaveLength(MAX_PENDING);
  expect(p.request('telegram', 'tg:4', 'tg:4', 'D')).toBeNull();
  now += PAIRING_TTL_MS + 1;
  expect(p.approve(a.code)).toBeNull();
  expect(p.pending()).toHaveLength(0);
  const d = p.request('telegram', 'tg:4', 'tg:4', 'D')!;
  expect(p.approve(d.code.toLowerCase())?.chatJid).toBe('tg:4');
  expect(p.approve(d.code)).toBeNull(); // once only
});

test('direct chats and safe folders for approved people', () => {
  expect(isDirectChat('tg:5555', CHANNELS)).toBe(true);
  expect(isDirectChat('tg:-100123', CHANNELS)).toBe(false);
  expect(isDirectChat('447700900123@s.whatsapp.net', CHANNELS)).toBe(true);
  expect(isDirectChat('1203630@g.us', CHANNELS)).toBe(false);
  expect(folderForName('Nora Newcomer', () => false)).toBe('nora-newcomer');
  expect(folderForName('../../etc', () => false)).toBe('etc');
  expect(folderForName('Émile', (f) => f === 'emile')).toBe('emile-2');
  expect(folderForName('global', () => false)).toBe('dm-global');
  expect(folderForName('😀', () => false)).toBe('contact');
});
