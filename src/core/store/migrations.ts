// Entry n runs once; `PRAGMA user_version` counts them. A shipped entry never changes: add one.
// Empty ones made tables that plugins now make themselves.
export const migrations: string[] = [
  // 1: cursors point at seq, the store's own order, so clock skew between platforms never hides or repeats a message.
  `CREATE TABLE chats (
    jid TEXT PRIMARY KEY,
    name TEXT,
    channel TEXT NOT NULL,
    is_group INTEGER NOT NULL DEFAULT 0,
    last_message_at TEXT
  );
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    chat_jid TEXT NOT NULL,
    sender TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    text TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    from_me INTEGER NOT NULL DEFAULT 0,
    from_assistant INTEGER NOT NULL DEFAULT 0,
    reply_to_id TEXT,
    reply_to_text TEXT,
    reply_to_sender TEXT,
    attachments TEXT,
    UNIQUE (chat_jid, id)
  );
  CREATE INDEX messages_chat_seq ON messages (chat_jid, seq);
  CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, sender_name, content = 'messages', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text, sender_name) VALUES (new.seq, new.text, new.sender_name);
  END;
  CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text, sender_name) VALUES ('delete', old.seq, old.text, old.sender_name);
  END;
  CREATE TABLE registered_groups (
    jid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    folder TEXT NOT NULL UNIQUE,
    trigger TEXT NOT NULL,
    requires_trigger INTEGER NOT NULL DEFAULT 1,
    is_main INTEGER NOT NULL DEFAULT 0,
    sandbox TEXT NOT NULL DEFAULT '{}',
    added_at TEXT NOT NULL
  );
  CREATE TABLE sessions (
    group_folder TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE cursors (
    chat_jid TEXT PRIMARY KEY,
    answered_seq INTEGER NOT NULL
  );
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_jid TEXT NOT NULL,
    text TEXT NOT NULL,
    persona TEXT,
    kind TEXT NOT NULL DEFAULT 'reply',
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  );
  CREATE INDEX outbox_pending ON outbox (delivered_at, id);
  CREATE TABLE identity_map (
    alias TEXT PRIMARY KEY,
    canonical TEXT NOT NULL
  );`,
  '', // 2: health
  // 3: full-text index in batches before a search, not on insert (it halved ingest).
  `DROP TRIGGER messages_ai;
  DROP TRIGGER messages_ad;
  CREATE TABLE fts_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_seq INTEGER NOT NULL);
  INSERT INTO fts_state (id, indexed_seq) VALUES (1, (SELECT COALESCE(MAX(seq), 0) FROM messages));
  CREATE TRIGGER messages_ad AFTER DELETE ON messages WHEN old.seq <= (SELECT indexed_seq FROM fts_state) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text, sender_name) VALUES ('delete', old.seq, old.text, old.sender_name);
  END;`,
  // 4: how the channel said the assistant was addressed, so the text stays as written.
  `ALTER TABLE messages ADD COLUMN mentions_assistant INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN replies_to_assistant INTEGER NOT NULL DEFAULT 0;`,
  '', // 5: forget
  // 6: a file sent with the text as its caption.
  `ALTER TABLE outbox ADD COLUMN media_path TEXT;`,
  '', // 7: approvals
  // 8: JSON [{ label, action }].
  `ALTER TABLE outbox ADD COLUMN buttons TEXT;`,
  // 9: set before the platform is asked: after a restart it may have the message.
  `ALTER TABLE outbox ADD COLUMN sending_at TEXT;`,
];
