// The search plugin's query on a real store: words are found and ranked, in the chats asked for, and query
// syntax in what the user typed is only text.
import { expect, test } from 'vitest';
import { openDatabase } from '../../../src/core/store/db.js';
import { createStore } from '../../../src/host.js';
import type { Message } from '../../../src/core/types.js';

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

test('full-text search finds words, ranks, and treats query syntax as text', () => {
  const store = createStore(openDatabase(':memory:'));
  store.messages.insert({ ...m('1', 'Sarah booked the flights to Lisbon'), senderName: 'Sarah' }, 'local');
  store.messages.insert({ ...m('2', 'dinner at eight'), chatJid: 'local:b' }, 'local');
  expect(store.search('flights').map((h) => h.id)).toEqual(['1']);
  expect(store.search('flights', { chatJids: ['local:b'] })).toEqual([]);
  expect(store.search('"flights" OR NEAR(*')).toHaveLength(1);
  expect(store.search('***')).toEqual([]);
});
