// One SQLite database, its queries grouped by subject. A plugin adds its own (`store.tasks`) via StoreExtensions.
import { migratePlugin, openDatabase, type DB } from './db.js';
import { messageQueries } from './messages.js';
import { groupQueries } from './groups.js';
import { outboxQueries } from './outbox.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by plugins (declaration merging)
export interface StoreExtensions {}
export type Store = ReturnType<typeof core> & StoreExtensions;
type Part = { name: string; migrations?: readonly string[]; store?: (db: DB) => Partial<StoreExtensions> };

const core = (db: DB) => ({
  db,
  messages: messageQueries(db),
  groups: groupQueries(db),
  outbox: outboxQueries(db),
  close: () => void db.close(),
});

export function createStore(db: DB, parts: readonly Part[] = []): Store {
  for (const p of parts) if (p.migrations) migratePlugin(db, p.name, p.migrations);
  return Object.assign(core(db), ...parts.map((p) => p.store?.(db)));
}

export const openStore = (file: string, opts: { releaseSpace?: () => boolean; parts?: readonly Part[] } = {}) =>
  createStore(openDatabase(file, opts.releaseSpace), opts.parts);
