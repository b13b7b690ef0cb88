// Entry n runs once; `PRAGMA user_version` counts them. A shipped entry never changes: add one.
// Empty ones, and the full-text index and identity map once in the first, made tables that plugins now make themselves.
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
  CREATE INDEX outbox_pending ON outbox (delivered_at, id);`,
  '', // 2: health
  '', // 3: search
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
