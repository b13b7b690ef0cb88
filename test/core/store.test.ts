import { expect, test } from 'vitest';
import { openDatabase } from '../../src/core/store/db.js';
import { migrations } from '../../src/core/store/migrations.js';
import { createStore } from '../../src/host.js';
import type { Message } from '../../src/core/types.js';

const m = (id: string, text = 'hi'): Message => ({
  id,
  chatJid: 'local:a',
  sender: 's',
  senderName: 'Sam',
  text,
  timestamp: new Date().toISOString(),
  fromMe: false,
  fromAssistant: false,
});

test('migrations bring a new database to the latest version and refuse a newer one', () => {
  const db = openDatabase(':memory:');
  expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
  expect(db.pragma('journal_mode', { simple: true })).toBe('memory');
  db.pragma(`user_version = ${migrations.length + 1}`);
  db.close();
});

test('a message delivered twice is stored once', () => {
  const store = createStore(openDatabase(':memory:'));
  expect(store.messages.insert(m('x'), 'local')).toBe(1);
  expect(store.messages.insert(m('x'), 'local')).toBeNull();
  expect(store.messages.after('local:a', 0)).toHaveLength(1);
});

test('a turn commits reply, session and cursor together', () => {
  const store = createStore(openDatabase(':memory:'));
  store.messages.insert(m('1'), 'local');
  store.messages.insert(m('2'), 'local');
  store.outbox.commitTurn({ chatJid: 'local:a', upToSeq: 2, reply: 'answer', groupFolder: 'a', sessionId: 'sess-1' });
  expect(store.outbox.cursor('local:a')).toBe(2);
  expect(store.outbox.pending().map((o) => o.text)).toEqual(['answer']);
  expect(store.groups.session('a')).toBe('sess-1');
  // The cursor never moves backwards.
  store.outbox.setCursor('local:a', 1);
  expect(store.outbox.cursor('local:a')).toBe(2);
});
