// Full-text search over the messages. The index (messages_fts and fts_state) is filled
// shortly after each message is stored; a search first adds whatever is not indexed yet.
import type { DB } from '../../core/store/db.js';
import { COLS, fromRow, type StoredMessage } from '../../core/store/messages.js';

export type SearchHit = StoredMessage & { chatName: string | null };
/** No chatJids: every chat. */
type SearchOptions = { chatJids?: string[]; limit?: number };

// Words like "what" or "the" match nearly everything and rank nothing.
const STOPWORDS = new Set(
  `a an and are as at be but by did do does for from had has have he her his i in is it its me my of on or our she so
  that the their them they this to was we were what when where which who why will with would you your about say said
  tell told`.split(/\s+/),
);

// Stores from before the index was this plugin's have it already: the core made it.
export const migrations = [
  `CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5 (
    text, sender_name, content = 'messages', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TABLE IF NOT EXISTS fts_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_seq INTEGER NOT NULL);
  INSERT OR IGNORE INTO fts_state (id, indexed_seq) VALUES (1, 0);
  CREATE TRIGGER IF NOT EXISTS messages_ad AFTER DELETE ON messages WHEN old.seq <= (SELECT indexed_seq FROM fts_state)
  BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text, sender_name) VALUES ('delete', old.seq, old.text, old.sender_name);
  END;`,
];

/** Adds new messages to the full-text index, a batch per transaction. */
function indexPending(db: DB): void {
  const batch = 20_000;
  const unindexed = 'FROM messages WHERE seq > (SELECT indexed_seq FROM fts_state)';
  const batchEnd = db.prepare(`SELECT MAX(seq) FROM (SELECT seq ${unindexed} ORDER BY seq LIMIT ?)`).pluck();
  const indexBatch = db.prepare(
    `INSERT INTO messages_fts (rowid, text, sender_name) SELECT seq, text, sender_name ${unindexed} AND seq <= ?`,
  );
  const setIndexed = db.prepare(`UPDATE fts_state SET indexed_seq = ?`);
  const indexNext = db.transaction(() => {
    const to = batchEnd.get(batch);
    if (to === null) return 0;
    const { changes } = indexBatch.run(to);
    setIndexed.run(to);
    return changes;
  });
  for (let n = batch; n >= batch;) n = indexNext();
}

function search(db: DB, query: string, opts: SearchOptions = {}): SearchHit[] {
  indexPending(db);
  const all = query.match(/[\p{L}\p{N}_]+/gu) ?? [];
  const meaningful = all.filter((t) => !STOPWORDS.has(t.toLowerCase()));
  const terms = (meaningful.length ? meaningful : all).slice(0, 32);
  const ids = opts.chatJids;
  if (!terms.length || ids?.length === 0) return [];
  // Quoted, FTS syntax in user input is only literal text; bm25 ranks messages with more terms first.
  const rows = db.prepare(`SELECT ${COLS}, c.name AS chatName
    FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid LEFT JOIN chats c ON c.jid = m.chat_jid
    WHERE messages_fts MATCH ? ${ids ? `AND m.chat_jid IN (${ids.map(() => '?')})` : ''} ORDER BY rank LIMIT ?`);
  return rows
    .all(`"${terms.join('" OR "')}"`, ...(ids ?? []), Math.max(1, Math.min(opts.limit ?? 20, 100)))
    .map(fromRow) as SearchHit[];
}

declare module '../../core/store/index.js' {
  interface StoreExtensions {
    /** Best matches first. */
    search(query: string, opts?: SearchOptions): SearchHit[];
    indexMessages(): void;
  }
}
export const searchStore = (db: DB) => ({
  search: (query: string, opts?: SearchOptions) => search(db, query, opts),
  indexMessages: () => indexPending(db),
});
