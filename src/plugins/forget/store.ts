// Queries for forgetting: finding and deleting what matches a phrase, a sender
// or a date range in every table that holds text, per-member opt-outs, and the
// receipts. Deleting is followed by `scrub`: the FTS index is merged so deleted
// terms leave its segments, and the WAL is checkpointed and truncated, so with
// secure_delete the bytes are gone from messages.db, -wal and -shm.
import type { DB } from '../../core/store/db.js';

export interface ForgetFilter {
  /** Chats to look in; undefined means every chat. */
  chatJids?: string[];
  /** Case-insensitive text to match. */
  phrase?: string;
  /** Only messages from this sender id. */
  sender?: string;
  /** ISO timestamps, inclusive. */
  since?: string;
  until?: string;
}

export interface MessageMatch {
  seq: number;
  chatJid: string;
  sender: string;
  senderName: string;
  text: string;
  timestamp: string;
  attachments: string | null;
}

export interface TextMatch {
  id: string;
  text: string;
}

export interface OptOut {
  chatJid: string;
  sender: string;
  senderName: string;
  createdAt: string;
}

export interface ReceiptPlace {
  place: string;
  removed: number;
  detail: string;
  /** Matches left on purpose (the audit trail), with `detail` saying why. */
  kept?: number;
}

export interface ForgetReceipt {
  id: string;
  createdAt: string;
  requestedBy: string;
  scope: string;
  filter: string;
  places: ReceiptPlace[];
  verified: boolean;
  remaining: string[];
}

/** instr() on lower(): LIKE would read % and _ in the phrase as wildcards. */
const has = (col: string) => `instr(lower(COALESCE(${col}, '')), lower(@phrase)) > 0`;

function where(
  f: ForgetFilter,
  params: Record<string, unknown>,
  cols: { chat: string; time?: string; sender?: string; text: string[] },
) {
  const parts: string[] = [];
  if (f.chatJids) {
    if (!f.chatJids.length) return null;
    parts.push(`${cols.chat} IN (${f.chatJids.map((_, i) => `@chat${i}`).join(',')})`);
    f.chatJids.forEach((j, i) => (params[`chat${i}`] = j));
  }
  if (f.phrase) {
    params.phrase = f.phrase;
    parts.push(`(${cols.text.map(has).join(' OR ')})`);
  }
  if (f.sender) {
    if (!cols.sender) return null;
    params.sender = f.sender;
    parts.push(`${cols.sender} = @sender`);
  }
  if (cols.time && f.since) {
    params.since = f.since;
    parts.push(`${cols.time} >= @since`);
  }
  if (cols.time && f.until) {
    params.until = f.until;
    parts.push(`${cols.time} <= @until`);
  }
  return parts.length ? parts.join(' AND ') : '1';
}

export function forgetQueries(db: DB) {
  const optOut = db.prepare(
    `INSERT INTO consent_opt_outs (chat_jid, sender, sender_name, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (chat_jid, sender) DO NOTHING`,
  );
  const optIn = db.prepare(`DELETE FROM consent_opt_outs WHERE chat_jid = ? AND sender = ?`);
  const isOut = db.prepare(`SELECT 1 FROM consent_opt_outs WHERE chat_jid = ? AND sender = ?`);
  const anyOut = db.prepare(`SELECT 1 FROM consent_opt_outs LIMIT 1`);
  const listOut = db.prepare(
    `SELECT chat_jid AS chatJid, sender, sender_name AS senderName, created_at AS createdAt FROM consent_opt_outs ORDER BY created_at`,
  );
  // Rows of opted-out senders, kept only until the turn that answered them is committed.
  const answeredOptedOut = db.prepare(
    `SELECT m.seq, m.chat_jid AS chatJid, m.text FROM messages m JOIN consent_opt_outs o ON o.chat_jid = m.chat_jid AND o.sender = m.sender
     WHERE m.from_assistant = 0 AND m.seq <= COALESCE((SELECT answered_seq FROM cursors c WHERE c.chat_jid = m.chat_jid), 0)`,
  );
  const deleteMessage = db.prepare(`DELETE FROM messages WHERE seq = ?`);
  // The search plugin's index, where it is enabled.
  const hasIndex = !!db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'fts_state'`).get();
  const indexedSeq = hasIndex ? db.prepare(`SELECT indexed_seq AS seq FROM fts_state WHERE id = 1`) : null;
  const insertReceipt = db.prepare(
    `INSERT INTO forget_receipts (id, created_at, requested_by, scope, filter, places, verified, remaining)
     VALUES (@id, @createdAt, @requestedBy, @scope, @filter, @places, @verified, @remaining)`,
  );
  const updateReceipt = db.prepare(`UPDATE forget_receipts SET places = ?, verified = ?, remaining = ? WHERE id = ?`);
  const listReceipts = db.prepare(`SELECT * FROM forget_receipts ORDER BY created_at DESC LIMIT ?`);
  const getReceipt = db.prepare(`SELECT * FROM forget_receipts WHERE id = ?`);

  type ReceiptRow = {
    id: string;
    created_at: string;
    requested_by: string;
    scope: string;
    filter: string;
    places: string;
    verified: number;
    remaining: string;
  };
  const receiptOf = (r: ReceiptRow): ForgetReceipt => ({
    id: r.id,
    createdAt: r.created_at,
    requestedBy: r.requested_by,
    scope: r.scope,
    filter: r.filter,
    places: JSON.parse(r.places),
    verified: !!r.verified,
    remaining: JSON.parse(r.remaining),
  });

  /** Deletes messages by seq; the delete trigger takes indexed rows out of the FTS index. Answers whether any were indexed. */
  const removeMessages = (seqs: number[]): boolean => {
    if (!seqs.length) return false;
    const indexed = (indexedSeq?.get() as { seq: number } | undefined)?.seq ?? 0;
    db.transaction(() => {
      for (const s of seqs) deleteMessage.run(s);
    })();
    return seqs.some((s) => s <= indexed);
  };

  // Tasks, approvals and errors are other plugins' tables: where a plugin is not enabled there is nothing to find.
  const has = (table: string) =>
    !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);

  return {
    findMessages(f: ForgetFilter, limit = 100_000): MessageMatch[] {
      const params: Record<string, unknown> = {};
      const w = where(f, params, {
        chat: 'chat_jid',
        time: 'timestamp',
        sender: 'sender',
        text: ['text', 'sender_name', 'reply_to_text', 'attachments'],
      });
      if (!w || (!f.phrase && !f.sender && !f.since && !f.until)) return [];
      params.limit = limit;
      return db
        .prepare(
          `SELECT seq, chat_jid AS chatJid, sender, sender_name AS senderName, text, timestamp, attachments FROM messages
           WHERE ${w} ORDER BY seq LIMIT @limit`,
        )
        .all(params) as MessageMatch[];
    },

    removeMessages,

    /** Task prompts and last results that match; tasks carry no sender. */
    findTasks(f: ForgetFilter): TextMatch[] {
      if (f.sender || !f.phrase || !has('scheduled_tasks')) return [];
      const params: Record<string, unknown> = {};
      const w = where(f, params, { chat: 'chat_jid', time: 'created_at', text: ['prompt', 'last_result'] });
      if (!w) return [];
      return db
        .prepare(`SELECT id, prompt || ' ' || COALESCE(last_result, '') AS text FROM scheduled_tasks WHERE ${w}`)
        .all(params) as TextMatch[];
    },
    /** A task whose prompt matches is cancelled with its runs: the prompt is what it would run. */
    removeTask(id: string): void {
      db.transaction(() => {
        db.prepare(`DELETE FROM task_runs WHERE task_id = ?`).run(id);
        db.prepare(`DELETE FROM scheduled_tasks WHERE id = ?`).run(id);
      })();
    },
    findTaskRuns(f: ForgetFilter): TextMatch[] {
      if (f.sender || !f.phrase || !has('task_runs')) return [];
      const params: Record<string, unknown> = {};
      const w = where(f, params, { chat: 't.chat_jid', time: 'r.started_at', text: ['r.result', 'r.error'] });
      if (!w) return [];
      return db
        .prepare(
          `SELECT CAST(r.id AS TEXT) AS id, COALESCE(r.result, '') || ' ' || COALESCE(r.error, '') AS text
           FROM task_runs r JOIN scheduled_tasks t ON t.id = r.task_id WHERE ${w}`,
        )
        .all(params) as TextMatch[];
    },
    removeTaskRun(id: string): void {
      db.prepare(`DELETE FROM task_runs WHERE id = ?`).run(Number(id));
    },

    findOutbox(f: ForgetFilter): TextMatch[] {
      if (f.sender || !f.phrase) return [];
      const params: Record<string, unknown> = {};
      const w = where(f, params, { chat: 'chat_jid', time: 'created_at', text: ['text', 'last_error'] });
      if (!w) return [];
      return db.prepare(`SELECT CAST(id AS TEXT) AS id, text FROM outbox WHERE ${w}`).all(params) as TextMatch[];
    },
    removeOutbox(id: string): void {
      db.prepare(`DELETE FROM outbox WHERE id = ?`).run(Number(id));
    },

    findErrors(f: ForgetFilter): TextMatch[] {
      if (f.sender || !f.phrase || !has('errors')) return [];
      const params: Record<string, unknown> = {};
      const w = where(f, params, { chat: 'chat_jid', time: 'at', text: ['message'] });
      if (!w) return [];
      return db
        .prepare(`SELECT CAST(id AS TEXT) AS id, message AS text FROM errors WHERE ${w}`)
        .all(params) as TextMatch[];
    },
    removeError(id: string): void {
      db.prepare(`DELETE FROM errors WHERE id = ?`).run(Number(id));
    },

    /** Approval records (the audit trail) that hold the phrase: what was asked for, why, and the owner's note. */
    findApprovals(f: ForgetFilter): TextMatch[] {
      if (f.sender || !f.phrase || !has('approval_requests')) return [];
      const params: Record<string, unknown> = {};
      const w = where(f, params, { chat: 'chat_jid', time: 'created_at', text: ['detail', 'reason', 'note'] });
      if (!w) return [];
      return db.prepare(`SELECT id, detail AS text FROM approval_requests WHERE ${w}`).all(params) as TextMatch[];
    },
    removeApproval(id: string): void {
      db.prepare(`DELETE FROM approval_requests WHERE id = ?`).run(id);
    },

    /** The assistant's stored replies in these chats (and still-queued outgoing ones), for a person's forget. */
    assistantReplies(f: ForgetFilter & { chatJids: string[] }): { messages: MessageMatch[]; outbox: TextMatch[] } {
      const params: Record<string, unknown> = {};
      const w = where({ ...f, sender: undefined }, params, { chat: 'chat_jid', time: 'timestamp', text: ['text'] });
      const o: Record<string, unknown> = {};
      const wo = where({ ...f, sender: undefined }, o, { chat: 'chat_jid', time: 'created_at', text: ['text'] });
      if (!w || !wo) return { messages: [], outbox: [] };
      return {
        messages: db
          .prepare(
            `SELECT seq, chat_jid AS chatJid, sender, sender_name AS senderName, text, timestamp, attachments
             FROM messages WHERE from_assistant = 1 AND ${w} ORDER BY seq`,
          )
          .all(params) as MessageMatch[],
        outbox: db.prepare(`SELECT CAST(id AS TEXT) AS id, text FROM outbox WHERE ${wo}`).all(o) as TextMatch[],
      };
    },

    /** How many messages a sender has kept in a chat. */
    countBySender(chatJid: string, sender: string): number {
      return (
        db.prepare(`SELECT COUNT(*) AS n FROM messages WHERE chat_jid = ? AND sender = ?`).get(chatJid, sender) as {
          n: number;
        }
      ).n;
    },
    /** The names a sender went by in a chat (for memory lines that mention them). */
    namesOf(chatJid: string, sender: string): string[] {
      return (
        db
          .prepare(
            `SELECT DISTINCT sender_name AS n FROM messages WHERE chat_jid = ? AND sender = ? AND sender_name != ''`,
          )
          .all(chatJid, sender) as {
          n: string;
        }[]
      ).map((r) => r.n);
    },

    /**
     * Makes deleted rows unrecoverable from the files: FTS segments are merged
     * (a delete only adds a tombstone beside the old terms), then the WAL is
     * checkpointed and truncated. `vacuum` also rewrites the file.
     */
    scrub(opts: { fts?: boolean; vacuum?: boolean } = {}): void {
      if (opts.fts && hasIndex) db.prepare(`INSERT INTO messages_fts (messages_fts) VALUES ('optimize')`).run();
      if (opts.vacuum) db.exec('VACUUM');
      db.pragma('wal_checkpoint(TRUNCATE)');
    },

    optOut(chatJid: string, sender: string, senderName: string): boolean {
      return optOut.run(chatJid, sender, senderName, new Date().toISOString()).changes > 0;
    },
    optIn(chatJid: string, sender: string): boolean {
      return optIn.run(chatJid, sender).changes > 0;
    },
    isOptedOut(chatJid: string, sender: string): boolean {
      return !!isOut.get(chatJid, sender);
    },
    optOuts(): OptOut[] {
      return listOut.all() as OptOut[];
    },
    /** Deletes the answered messages of opted-out senders; answers what went (to take it out of transcripts too). */
    purgeOptedOut(): { chatJid: string; text: string }[] {
      if (!anyOut.get()) return [];
      const rows = answeredOptedOut.all() as { seq: number; chatJid: string; text: string }[];
      if (!rows.length) return [];
      const indexed = removeMessages(rows.map((r) => r.seq));
      this.scrub({ fts: indexed });
      return rows.map((r) => ({ chatJid: r.chatJid, text: r.text }));
    },

    addReceipt(r: ForgetReceipt): void {
      insertReceipt.run({
        ...r,
        places: JSON.stringify(r.places),
        verified: r.verified ? 1 : 0,
        remaining: JSON.stringify(r.remaining),
      });
    },
    updateReceipt(id: string, places: ReceiptPlace[], verified: boolean, remaining: string[]): void {
      updateReceipt.run(JSON.stringify(places), verified ? 1 : 0, JSON.stringify(remaining), id);
    },
    receipts(limit = 50): ForgetReceipt[] {
      return (listReceipts.all(limit) as ReceiptRow[]).map(receiptOf);
    },
    receipt(id: string): ForgetReceipt | undefined {
      const r = getReceipt.get(id) as ReceiptRow | undefined;
      return r ? receiptOf(r) : undefined;
    },
  };
}

declare module '../../core/store/index.js' {
  interface StoreExtensions {
    forget: ReturnType<typeof forgetQueries>;
  }
}
/** This plugin's queries on the store. */
export const forgetStore = (db: DB) => ({ forget: forgetQueries(db) });

/** This plugin's tables (the first entry IF NOT EXISTS: stores from before plugins kept their own have them). */
export const migrations: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS consent_opt_outs (
    chat_jid TEXT NOT NULL,
    sender TEXT NOT NULL,
    sender_name TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (chat_jid, sender)
  );
  CREATE TABLE IF NOT EXISTS forget_receipts (
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
];
