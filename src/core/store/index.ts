// The store: one SQLite database, every query grouped by what it is about. Plugins add
// their own groups of queries (`store.tasks`, `store.approvals`), each declared in
// StoreExtensions by the plugin that brings it.
import { migratePlugin, openDatabase, retryWritesOnFull, type DB } from './db.js';
import { messageQueries } from './messages.js';
import { groupQueries } from './groups.js';
import { outboxQueries } from './outbox.js';
import { identityQueries } from './identities.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by plugins (declaration merging)
export interface StoreExtensions {}

export type CoreStore = ReturnType<typeof coreQueries>;
export type Store = CoreStore & StoreExtensions;
export type StoreExtension = (db: DB) => Partial<StoreExtensions>;
/** A plugin's tables and queries. */
export interface StorePart {
  name: string;
  migrations?: readonly string[];
  store?: StoreExtension;
}

function coreQueries(db: DB) {
  return {
    db,
    messages: messageQueries(db),
    groups: groupQueries(db),
    outbox: outboxQueries(db),
    identities: identityQueries(db),
    close() {
      db.close();
    },
  };
}

export function createStore(db: DB, parts: readonly StorePart[] = []): Store {
  for (const p of parts) if (p.migrations) migratePlugin(db, p.name, p.migrations);
  return Object.assign(coreQueries(db), ...parts.map((p) => p.store?.(db))) as Store;
}

/** `releaseSpace` (the disk reserve) is called once when a write finds the disk full. */
export function openStore(
  file: string,
  opts: { releaseSpace?: () => boolean; parts?: readonly StorePart[] } = {},
): Store {
  const db = openDatabase(file);
  if (opts.releaseSpace) retryWritesOnFull(db, opts.releaseSpace);
  return createStore(db, opts.parts);
}
