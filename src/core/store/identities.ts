// identity_map: one person under several ids (WhatsApp's LID and phone JID) shares one canonical sender.
import type { DB } from './db.js';

export type IdentityQueries = ReturnType<typeof identityQueries>;

export function identityQueries(db: DB) {
  const get = db.prepare(`SELECT canonical FROM identity_map WHERE alias = ?`);
  const upsert = db.prepare(
    `INSERT INTO identity_map (alias, canonical) VALUES (?, ?)
     ON CONFLICT (alias) DO UPDATE SET canonical = excluded.canonical`,
  );

  return {
    canonical: (alias: string): string => (get.get(alias) as { canonical: string } | undefined)?.canonical ?? alias,
    link(alias: string, canonical: string) {
      if (alias && canonical && alias !== canonical) upsert.run(alias, canonical);
    },
  };
}
