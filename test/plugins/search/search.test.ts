// The search plugin's query on a real store: words are found and ranked, in the chats asked for, and query
// syntax in what the user typed is only text. Every stored message is indexed shortly after, without a search.
import { expect, test } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import type { PluginCore, PluginParts } from '../../../src/core/plugin.js';
import { openDatabase } from '../../../src/core/store/db.js';
import type { StoredMessage } from '../../../src/core/store/messages.js';
import { createStore } from '../../../src/host.js';
import type { Message } from '../../../src/core/types.js';
import { search } from '../../../src/plugins/search/index.js';
import { until } from '../../support/harness.js';

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

test('a stored message is indexed shortly after the core offers it, off the ingest path', async () => {
  const store = createStore(openDatabase(':memory:'));
  const listeners = new Set<(m: StoredMessage) => void>();
  const core = { store, logger: silentLogger(), config: { timezone: 'UTC' } };
  const subscribe = (l: (m: StoredMessage) => void) => {
    listeners.add(l);
    return () => void listeners.delete(l);
  };
  const parts = (await search.setup!({ ...core, subscribe } as unknown as PluginCore)) as PluginParts;
  const indexed = () => store.db.prepare('SELECT indexed_seq FROM fts_state').pluck().get() as number;
  const seq = store.messages.insert(m('1', 'Sarah booked the flights to Lisbon'), 'local')!;
  for (const l of listeners) l({ ...m('1'), seq });
  expect(indexed()).toBeLessThan(seq);
  await until(() => indexed() === seq, 5_000, 'the message to be indexed');
  await parts.stop!();
  expect(listeners.size).toBe(0);
});
