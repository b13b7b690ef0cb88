// Drafts on the host, in the store: what email_draft composed (the exact bytes the owner will be shown and
// that email_send sends) outlives a restart of the host. Never in a sandbox: a draft is the owner's mail.
import type { DB } from '../../core/store/db.js';
import type { Draft } from './mailbox.js';

/** The newest this many are kept: a long life does not hold every draft it ever made. */
export const DRAFTS_KEPT = 100;

interface Row {
  id: string;
  from_addr: string;
  to_json: string;
  cc_json: string;
  subject: string;
  body: string;
  raw: Buffer;
  saved_folder: string | null;
  saved_uid: number | null;
  forwards: string | null;
}

const toDraft = (r: Row): Draft => ({
  id: r.id,
  from: r.from_addr,
  to: JSON.parse(r.to_json) as string[],
  cc: JSON.parse(r.cc_json) as string[],
  subject: r.subject,
  body: r.body,
  raw: Buffer.from(r.raw),
  saved: r.saved_folder && r.saved_uid ? { folder: r.saved_folder, uid: r.saved_uid } : null,
  forwards: r.forwards,
});

/** Where email_send finds a draft. The store's queries, or a Map in tests that need no store. */
export interface DraftStore {
  get(id: string): Draft | undefined;
  put(d: Draft): void;
  /** Removes it; true only for the one caller that removed it, so a draft is sent at most once. */
  take(id: string): boolean;
}

function draftQueries(db: DB): DraftStore {
  const get = db.prepare('SELECT * FROM email_drafts WHERE id = ?');
  const put = db.prepare(
    `INSERT OR REPLACE INTO email_drafts (id, from_addr, to_json, cc_json, subject, body, raw, saved_folder, saved_uid, forwards, created_at)
     VALUES (@id, @from_addr, @to_json, @cc_json, @subject, @body, @raw, @saved_folder, @saved_uid, @forwards, @created_at)`,
  );
  const prune = db.prepare(
    'DELETE FROM email_drafts WHERE id NOT IN (SELECT id FROM email_drafts ORDER BY created_at DESC, rowid DESC LIMIT ?)',
  );
  const take = db.prepare('DELETE FROM email_drafts WHERE id = ?');
  return {
    get: (id) => {
      const r = get.get(id) as Row | undefined;
      return r ? toDraft(r) : undefined;
    },
    put: (d) => {
      put.run({
        id: d.id,
        from_addr: d.from,
        to_json: JSON.stringify(d.to),
        cc_json: JSON.stringify(d.cc),
        subject: d.subject,
        body: d.body,
        raw: d.raw,
        saved_folder: d.saved?.folder ?? null,
        saved_uid: d.saved?.uid ?? null,
        forwards: d.forwards ?? null,
        created_at: new Date().toISOString(),
      });
      prune.run(DRAFTS_KEPT);
    },
    take: (id) => take.run(id).changes === 1,
  };
}

/** Drafts kept in memory only (a host without the store, and the tool tests). */
export function memoryDrafts(): DraftStore {
  const drafts = new Map<string, Draft>();
  return {
    get: (id) => drafts.get(id),
    put: (d) => {
      drafts.set(d.id, d);
      while (drafts.size > DRAFTS_KEPT) drafts.delete(drafts.keys().next().value!);
    },
    take: (id) => drafts.delete(id),
  };
}

export interface Thread {
  messageId: string;
  subject: string;
  references: string[];
}

/** Email as a chat: how far the inbox has been read, and the mail each chat's answer replies to. */
export interface InboxStore {
  cursor(account: string): { validity: string; lastUid: number } | undefined;
  setCursor(account: string, validity: string, lastUid: number): void;
  thread(jid: string): Thread | undefined;
  setThread(jid: string, t: Thread): void;
}

function inboxQueries(db: DB): InboxStore {
  const cursor = db.prepare('SELECT uid_validity AS validity, last_uid AS lastUid FROM email_inbox WHERE account = ?');
  const setCursor = db.prepare(
    `INSERT INTO email_inbox (account, uid_validity, last_uid) VALUES (?, ?, ?)
     ON CONFLICT (account) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid`,
  );
  const thread = db.prepare('SELECT message_id, subject, refs FROM email_threads WHERE chat_jid = ?');
  const setThread = db.prepare(
    'INSERT OR REPLACE INTO email_threads (chat_jid, message_id, subject, refs) VALUES (?, ?, ?, ?)',
  );
  return {
    cursor: (account) => cursor.get(account) as { validity: string; lastUid: number } | undefined,
    setCursor: (account, validity, lastUid) => void setCursor.run(account, validity, lastUid),
    thread: (jid) => {
      const r = thread.get(jid) as { message_id: string; subject: string; refs: string } | undefined;
      return r && { messageId: r.message_id, subject: r.subject, references: JSON.parse(r.refs) as string[] };
    },
    setThread: (jid, t) => void setThread.run(jid, t.messageId, t.subject, JSON.stringify(t.references.slice(-20))),
  };
}

/** Addresses the owner has written to: mail to anyone else asks the owner first (email_new_recipient). */
export interface RecipientStore {
  known(address: string): boolean;
  add(addresses: readonly string[]): void;
}

function recipientQueries(db: DB): RecipientStore {
  const known = db.prepare('SELECT 1 FROM email_recipients WHERE address = ?');
  const add = db.prepare('INSERT OR IGNORE INTO email_recipients (address) VALUES (?)');
  return {
    known: (address) => !!known.get(address.toLowerCase()),
    add: db.transaction((addresses: readonly string[]) => {
      for (const a of addresses) add.run(a.toLowerCase());
    }),
  };
}

export function memoryRecipients(): RecipientStore {
  const seen = new Set<string>();
  return {
    known: (address) => seen.has(address.toLowerCase()),
    add: (addresses) => addresses.forEach((a) => seen.add(a.toLowerCase())),
  };
}

declare module '../../core/store/index.js' {
  interface StoreExtensions {
    emailDrafts: DraftStore;
    emailInbox: InboxStore;
    emailRecipients: RecipientStore;
  }
}
/** This plugin's queries on the store. */
export const emailStore = (db: DB) => ({
  emailDrafts: draftQueries(db),
  emailInbox: inboxQueries(db),
  emailRecipients: recipientQueries(db),
});

/** This plugin's tables. */
export const migrations: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS email_drafts (
    id TEXT PRIMARY KEY,
    from_addr TEXT NOT NULL,
    to_json TEXT NOT NULL,
    cc_json TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    raw BLOB NOT NULL,
    saved_folder TEXT,
    saved_uid INTEGER,
    created_at TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE IF NOT EXISTS email_inbox (
    account TEXT PRIMARY KEY,
    uid_validity TEXT NOT NULL,
    last_uid INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS email_threads (
    chat_jid TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    refs TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE IF NOT EXISTS email_recipients (address TEXT PRIMARY KEY);
  `,
  'ALTER TABLE email_drafts ADD COLUMN forwards TEXT;',
];
