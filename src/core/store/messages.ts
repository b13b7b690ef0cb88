// Queries over chats and messages: ingest, catch-up, history, full-text search.
import type { DB } from './db.js';
import type { Attachment, ChatInfo, Message } from '../types.js';

export interface StoredMessage extends Message {
  seq: number;
}

interface Row {
  seq: number;
  id: string;
  chat_jid: string;
  sender: string;
  sender_name: string;
  text: string;
  timestamp: string;
  from_me: number;
  from_assistant: number;
  reply_to_id: string | null;
  reply_to_text: string | null;
  reply_to_sender: string | null;
  attachments: string | null;
  mentions_assistant: number;
  replies_to_assistant: number;
}

function fromRow(r: Row): StoredMessage {
  let attachments: Attachment[] | undefined;
  try {
    attachments = r.attachments ? JSON.parse(r.attachments) : undefined;
  } catch {
    /* unreadable: none */
  }
  return {
    seq: r.seq,
    id: r.id,
    chatJid: r.chat_jid,
    sender: r.sender,
    senderName: r.sender_name,
    text: r.text,
    timestamp: r.timestamp,
    fromMe: !!r.from_me,
    fromAssistant: !!r.from_assistant,
    replyTo: r.reply_to_id
      ? { id: r.reply_to_id, text: r.reply_to_text ?? undefined, sender: r.reply_to_sender ?? undefined }
      : null,
    attachments,
    ...(r.mentions_assistant ? { mentionsAssistant: true } : {}),
    ...(r.replies_to_assistant ? { repliesToAssistant: true } : {}),
  };
}
const fromRows = (rows: unknown[]) => (rows as Row[]).map(fromRow);
const one = (r: unknown) => (r ? fromRow(r as Row) : undefined);
const bit = (b: boolean | undefined) => (b ? 1 : 0);

type ChatRow = { jid: string; name: string | null; channel: string; isGroup: number; lastMessageAt: string | null };

const STOPWORDS = new Set(
  'a an and are as at be but by did do does for from had has have he her his i in is it its me my of on or our she so that the their them they this to was we were what when where which who why will with would you your about say said tell told'.split(
    ' ',
  ),
);

export interface SearchHit extends StoredMessage {
  chatName: string | null;
  snippet: string;
}

export function messageQueries(db: DB) {
  const upsertChat = db.prepare(
    `INSERT INTO chats (jid, name, channel, is_group, last_message_at) VALUES (@jid, @name, @channel, @isGroup, @at)
     ON CONFLICT (jid) DO UPDATE SET
       name = COALESCE(excluded.name, chats.name),
       is_group = MAX(chats.is_group, excluded.is_group),
       last_message_at = COALESCE(excluded.last_message_at, chats.last_message_at)`,
  );
  const insert = db.prepare(
    `INSERT OR IGNORE INTO messages (id, chat_jid, sender, sender_name, text, timestamp, from_me, from_assistant,
       reply_to_id, reply_to_text, reply_to_sender, attachments, mentions_assistant, replies_to_assistant)
     VALUES (@id, @chatJid, @sender, @senderName, @text, @timestamp, @fromMe, @fromAssistant,
       @replyToId, @replyToText, @replyToSender, @attachments, @mentionsAssistant, @repliesToAssistant)`,
  );
  const after = db.prepare(`SELECT * FROM messages WHERE chat_jid = ? AND seq > ? ORDER BY seq LIMIT ?`);
  const recent = db.prepare(
    `SELECT * FROM (SELECT * FROM messages WHERE chat_jid = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
  );
  const ownerNames = db.prepare(
    `SELECT DISTINCT sender_name AS name FROM messages WHERE chat_jid = ? AND from_me = 1 AND from_assistant = 0 AND sender_name != '' LIMIT 20`,
  );
  const lastSeq = db.prepare(`SELECT MAX(seq) AS seq FROM messages WHERE chat_jid = ?`);
  const bySeq = db.prepare(`SELECT * FROM messages WHERE seq = ?`);
  const indexedSeq = db.prepare(`SELECT indexed_seq AS seq FROM fts_state WHERE id = 1`);
  const batchEnd = db.prepare(
    `SELECT MAX(seq) AS seq FROM (SELECT seq FROM messages WHERE seq > ? ORDER BY seq LIMIT ?)`,
  );
  const indexBatch = db.prepare(
    `INSERT INTO messages_fts (rowid, text, sender_name) SELECT seq, text, sender_name FROM messages WHERE seq > ? AND seq <= ?`,
  );
  const setIndexed = db.prepare(`UPDATE fts_state SET indexed_seq = ? WHERE id = 1`);
  const indexPending = (batch = 20_000): number => {
    let total = 0;
    for (;;) {
      const n = db.transaction(() => {
        const from = (indexedSeq.get() as { seq: number }).seq;
        const to = (batchEnd.get(from, batch) as { seq: number | null }).seq;
        if (to === null) return 0;
        const res = indexBatch.run(from, to);
        setIndexed.run(to);
        return res.changes;
      })();
      total += n;
      if (n < batch) return total;
    }
  };
  const chats = 'SELECT jid, name, channel, is_group AS isGroup, last_message_at AS lastMessageAt FROM chats';
  const chatsStmt = db.prepare(`${chats} ORDER BY last_message_at DESC`);
  const chatStmt = db.prepare(`${chats} WHERE jid = ?`);

  return {
    upsertChat(info: ChatInfo, at?: string) {
      upsertChat.run({ ...info, name: info.name ?? null, isGroup: bit(info.isGroup), at: at ?? null });
    },

    insert(msg: Message, channel: string) {
      return db.transaction(() => {
        upsertChat.run({ jid: msg.chatJid, name: null, channel, isGroup: 0, at: msg.timestamp });
        const { replyTo: re, attachments: a } = msg;
        const res = insert.run({
          ...msg,
          fromMe: bit(msg.fromMe),
          fromAssistant: bit(msg.fromAssistant),
          replyToId: re?.id ?? null,
          replyToText: re?.text ?? null,
          replyToSender: re?.sender ?? null,
          attachments: a?.length ? JSON.stringify(a) : null,
          mentionsAssistant: bit(msg.mentionsAssistant),
          repliesToAssistant: bit(msg.repliesToAssistant),
        });
        return res.changes ? Number(res.lastInsertRowid) : null;
      })();
    },

    after: (chatJid: string, seq: number, limit = 10_000) => fromRows(after.all(chatJid, seq, limit)),
    recent: (chatJid: string, limit: number) => fromRows(recent.all(chatJid, limit)),
    bySeq: (seq: number) => one(bySeq.get(seq)),
    ownerNames: (chatJid: string) => (ownerNames.all(chatJid) as { name: string }[]).map((r) => r.name),
    lastSeq: (chatJid: string) => (lastSeq.get(chatJid) as { seq: number | null }).seq ?? 0,
    chats: () => chatsStmt.all() as ChatRow[],
    chat: (jid: string) => chatStmt.get(jid) as ChatRow | undefined,
    indexPending,

    search(query: string, opts: { chatJids?: string[]; limit?: number } = {}): SearchHit[] {
      indexPending();
      const all = query.match(/[\p{L}\p{N}_]+/gu) ?? [];
      // Words like "what" or "the" match nearly everything and rank nothing.
      const meaningful = all.filter((t) => !STOPWORDS.has(t.toLowerCase()));
      const terms = meaningful.length ? meaningful : all;
      if (terms.length === 0) return [];
      // Quoted, FTS syntax in user input is only literal text; bm25 ranks messages with more terms first.
      const match = `"${terms.slice(0, 32).join('" OR "')}"`;
      const ids = opts.chatJids;
      if (ids?.length === 0) return [];
      const where = ids ? `AND m.chat_jid IN (${ids.map(() => '?').join(',')})` : '';
      const rows = db
        .prepare(
          `SELECT m.*, c.name AS chat_name, snippet(messages_fts, 0, '[', ']', '…', 12) AS snip
         FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid LEFT JOIN chats c ON c.jid = m.chat_jid
         WHERE messages_fts MATCH ? ${where} ORDER BY rank LIMIT ?`,
        )
        .all(match, ...(ids ?? []), Math.max(1, Math.min(opts.limit ?? 20, 100))) as (Row & {
        chat_name: string | null;
        snip: string;
      })[];
      return rows.map((r) => ({ ...fromRow(r), chatName: r.chat_name, snippet: r.snip }));
    },
  };
}
