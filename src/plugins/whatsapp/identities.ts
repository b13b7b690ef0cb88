// One person under several ids (WhatsApp's LID and phone JID) shares one canonical sender.
import type { DB } from '../../core/store/db.js';

// Made here, not by a migration: linking from the command opens the store without the plugins' migrations.
export function identityQueries(db: DB) {
  db.exec(`CREATE TABLE IF NOT EXISTS identity_map (alias TEXT PRIMARY KEY, canonical TEXT NOT NULL)`);
  const get = db.prepare(`SELECT canonical FROM identity_map WHERE alias = ?`).pluck();
  const set = db.prepare(`INSERT INTO identity_map (alias, canonical) VALUES (?, ?)
    ON CONFLICT (alias) DO UPDATE SET canonical = excluded.canonical`);
  return {
    canonical: (alias: string): string => (get.get(alias) as string | undefined) ?? alias,
    link(alias: string, canonical: string) {
      if (alias && canonical && alias !== canonical) set.run(alias, canonical);
    },
  };
}
