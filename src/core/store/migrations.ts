// Versioned schema: each entry runs once, in order, in a transaction; `PRAGMA user_version` says how far a
// database has come. Never edit a shipped entry: add a new one.
export const migrations: string[] = [
  // 1: the whole first schema.
  `
  CREATE TABLE chats (
    jid TEXT PRIMARY KEY,
    name TEXT,
    channel TEXT NOT NULL,
    is_group INTEGER NOT NULL DEFAULT 0,
    last_message_at TEXT
  );

  -- seq is the store's own insertion order; cursors point at it, so clock
  -- skew between platforms can never hide or repeat a message.
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

  -- The last message seq the assistant has answered in each chat.
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

  CREATE TABLE scheduled_tasks (
    id TEXT PRIMARY KEY,
    group_folder TEXT NOT NULL,
    chat_jid TEXT NOT NULL,
    prompt TEXT NOT NULL,
    schedule_type TEXT NOT NULL,
    schedule_value TEXT NOT NULL,
    context_mode TEXT NOT NULL DEFAULT 'isolated',
    status TEXT NOT NULL DEFAULT 'active',
    status_reason TEXT,
    next_run TEXT,
    last_run TEXT,
    last_result TEXT,
    budget_tokens INTEGER,
    running_since TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX tasks_due ON scheduled_tasks (status, next_run);

  CREATE TABLE task_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms INTEGER,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX task_runs_task ON task_runs (task_id, id);

  CREATE TABLE usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    group_folder TEXT NOT NULL,
    session_id TEXT,
    task_id TEXT,
    model TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX usage_group_at ON usage (group_folder, at);

  -- WhatsApp sends the same person as a LID and as a phone JID.
  CREATE TABLE identity_map (
    alias TEXT PRIMARY KEY,
    canonical TEXT NOT NULL
  );

  CREATE TABLE pairing_requests (
    code TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    chat_jid TEXT NOT NULL,
    sender TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
  );

  CREATE TABLE errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    group_folder TEXT,
    chat_jid TEXT,
    message TEXT NOT NULL
  );
  `,
  // 2: the usage report reads by time, and a task run totals its own usage.
  `
  CREATE INDEX usage_at ON usage (at);
  CREATE INDEX usage_task_at ON usage (task_id, at);
  `,
  // 3: full-text indexing leaves the insert path (it halved ingest): batches, and always before a search.
  `
  DROP TRIGGER messages_ai;
  DROP TRIGGER messages_ad;
  CREATE TABLE fts_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_seq INTEGER NOT NULL);
  INSERT INTO fts_state (id, indexed_seq) VALUES (1, (SELECT COALESCE(MAX(seq), 0) FROM messages));
  -- Only rows already in the index may be deleted from it.
  CREATE TRIGGER messages_ad AFTER DELETE ON messages WHEN old.seq <= (SELECT indexed_seq FROM fts_state) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text, sender_name) VALUES ('delete', old.seq, old.text, old.sender_name);
  END;
  `,
  // 4: how the channel said the assistant was addressed, beside the text so the text stays what was written.
  `
  ALTER TABLE messages ADD COLUMN mentions_assistant INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN replies_to_assistant INTEGER NOT NULL DEFAULT 0;
  `,
  // 5: who asked not to be remembered where, and receipts of what was forgotten (never the content).
  `
  CREATE TABLE consent_opt_outs (
    chat_jid TEXT NOT NULL,
    sender TEXT NOT NULL,
    sender_name TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (chat_jid, sender)
  );
  CREATE TABLE forget_receipts (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    scope TEXT NOT NULL,
    filter TEXT NOT NULL,
    places TEXT NOT NULL,
    verified INTEGER NOT NULL DEFAULT 0,
    remaining TEXT NOT NULL DEFAULT '[]'
  );
  `,
  // 6: a file sent with a message (send_message with file), the text as its caption.
  `
  ALTER TABLE outbox ADD COLUMN media_path TEXT;
  `,
  // 7: "ask me first": actions held for the owner's yes or no, each decided once.
  `
  CREATE TABLE approval_requests (
    id TEXT PRIMARY KEY,
    group_folder TEXT NOT NULL,
    chat_jid TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    detail_hash TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT,
    note TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_at TEXT
  );
  CREATE INDEX approval_status ON approval_requests (status, created_at);
  CREATE INDEX approval_code ON approval_requests (code);
  `,
  // 8: buttons under an outgoing message (JSON [{ label, action }]).
  `
  ALTER TABLE outbox ADD COLUMN buttons TEXT;
  `,
  // 9: set before the platform is asked, so a restart knows the platform may have it already.
  `
  ALTER TABLE outbox ADD COLUMN sending_at TEXT;
  `,
];
