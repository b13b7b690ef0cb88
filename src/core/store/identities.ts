// Queries over identity_map: one person can reach us under several ids
// (WhatsApp sends the same account as a LID and as a phone JID). Every alias
// points at one canonical id, so their messages share one sender.
import type { DB } from './db.js';

export interface IdentityQueries {
  /** The canonical id for an alias, or the alias itself when none is known. */
  canonical(alias: string): string;
  /** Records that `alias` is the same identity as `canonical`. Later links win. */
  link(alias: string, canonical: string): void;
}

export function identityQueries(db: DB): IdentityQueries {
  const get = db.prepare(`SELECT canonical FROM identity_map WHERE alias = ?`);
  const upsert = db.prepare(
    `INSERT INTO identity_map (alias, canonical) VALUES (?, ?)
     ON CONFLICT (alias) DO UPDATE SET canonical = excluded.canonical`,
  );

  return {
    canonical(alias: string): string {
      const row = get.get(alias) as { canonical: string } | undefined;
      return row?.canonical ?? alias;
    },

    link(alias: string, canonical: string): void {
      if (!alias || !canonical || alias === canonical) return;
      upsert.run(alias, canonical);
    },
  };
}
