// The store: one SQLite database, every query grouped by what it is about.
import { openDatabase, retryWritesOnFull, type DB } from './db.js';
import { messageQueries } from './messages.js';
import { groupQueries } from './groups.js';
import { outboxQueries } from './outbox.js';
import { usageQueries } from '../../plugins/health/store.js';
import { taskQueries } from '../../plugins/scheduler/store.js';
import { pairingQueries } from '../../plugins/pairing/store.js';
import { identityQueries } from './identities.js';
import { forgetQueries } from '../../plugins/forget/store.js';
import { approvalQueries } from '../../plugins/approvals/store.js';

export type Store = ReturnType<typeof createStore>;

export function createStore(db: DB) {
  return {
    db,
    messages: messageQueries(db),
    groups: groupQueries(db),
    outbox: outboxQueries(db),
    usage: usageQueries(db),
    tasks: taskQueries(db),
    pairing: pairingQueries(db),
    identities: identityQueries(db),
    forget: forgetQueries(db),
    approvals: approvalQueries(db),
    close(): void {
      db.close();
    },
  };
}

/** `releaseSpace` (the disk reserve) is called once when a write finds the disk full. */
export function openStore(file: string, opts: { releaseSpace?: () => boolean } = {}): Store {
  const db = openDatabase(file);
  if (opts.releaseSpace) retryWritesOnFull(db, opts.releaseSpace);
  return createStore(db);
}
