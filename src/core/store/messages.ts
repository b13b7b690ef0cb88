// Queries over chats and messages: ingest, catch-up, history.
import { parse, type DB } from './db.js';
import type { ChatInfo, Message } from '../types.js';

export type StoredMessage = Message & { seq: number };
type ChatRow = { jid: string; name: string | null; channel: string; isGroup: number; lastMessageAt: string | null };

// Read from `messages m`: the full-text index has a text and a sender_name of its own.
export const COLS = `seq, id, chat_jid AS chatJid, sender, m.sender_name AS senderName, m.text AS text, timestamp,
  from_me AS fromMe, from_assistant AS fromAssistant, reply_to_id AS ri, reply_to_text AS rt, reply_to_sender AS rs,
  attachments AS a, mentions_assistant AS ma, replies_to_assistant AS ra`;
export const fromRow = ({ ri, rt, rs, a, ma, ra, ...r }: any): StoredMessage => ({
  ...r,
  fromMe: !!r.fromMe,
  fromAssistant: !!r.fromAssistant,
  replyTo: ri ? { id: ri, text: rt ?? undefined, sender: rs ?? undefined } : null,
  attachments: parse(a),
  ...(ma ? { mentionsAssistant: true } : {}),
  ...(ra ? { repliesToAssistant: true } : {}),
});
const bit = (b?: boolean) => (b ? 1 : 0);

export function messageQueries(db: DB) {
  const q = (sql: string) => db.prepare(sql);
  const upsertChat = q(`INSERT INTO chats (jid, name, channel, is_group, last_message_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (jid) DO UPDATE SET name = COALESCE(excluded.name, chats.name), is_group = MAX(chats.is_group,
    excluded.is_group), last_message_at = COALESCE(excluded.last_message_at, chats.last_message_at)`);
  const insert = q(`INSERT OR IGNORE INTO messages (id, chat_jid, sender, sender_name, text, timestamp, from_me,
    from_assistant, reply_to_id, reply_to_text, reply_to_sender, attachments, mentions_assistant, replies_to_assistant)
    VALUES (${'?, '.repeat(13)}?)`);
  const after = q(`SELECT ${COLS} FROM messages m WHERE chat_jid = ? AND seq > ? ORDER BY seq LIMIT ?`);
  const recent = q(`SELECT * FROM (SELECT ${COLS} FROM messages m WHERE chat_jid = ? ORDER BY seq DESC LIMIT ?)
    ORDER BY seq`);
  const ownerNames = q(`SELECT DISTINCT sender_name FROM messages
    WHERE chat_jid = ? AND from_me = 1 AND from_assistant = 0 AND sender_name != '' LIMIT 20`).pluck();
  const lastSeq = q(`SELECT MAX(seq) FROM messages WHERE chat_jid = ?`).pluck();
  const chats = 'SELECT jid, name, channel, is_group AS isGroup, last_message_at AS lastMessageAt FROM chats';
  const [allChats, oneChat] = [q(`${chats} ORDER BY last_message_at DESC`), q(`${chats} WHERE jid = ?`)];

  return {
    upsertChat: (info: ChatInfo, at?: string) =>
      void upsertChat.run(info.jid, info.name ?? null, info.channel, bit(info.isGroup), at ?? null),

    insert: (msg: Message, channel: string) =>
      db.transaction(() => {
        const { replyTo: re, attachments: a } = msg;
        upsertChat.run(msg.chatJid, null, channel, 0, msg.timestamp);
        const res = insert.run(
          ...[msg.id, msg.chatJid, msg.sender, msg.senderName, msg.text, msg.timestamp, bit(msg.fromMe)],
          ...[bit(msg.fromAssistant), re?.id ?? null, re?.text ?? null, re?.sender ?? null],
          ...[a?.length ? JSON.stringify(a) : null, bit(msg.mentionsAssistant), bit(msg.repliesToAssistant)],
        );
        return res.changes ? Number(res.lastInsertRowid) : null;
      })(),

    after: (chatJid: string, seq: number, limit = 10_000) => after.all(chatJid, seq, limit).map(fromRow),
    recent: (chatJid: string, limit: number) => recent.all(chatJid, limit).map(fromRow),
    ownerNames: (chatJid: string) => ownerNames.all(chatJid) as string[],
    lastSeq: (chatJid: string) => (lastSeq.get(chatJid) as number | null) ?? 0,
    chats: () => allChats.all() as ChatRow[],
    chat: (jid: string) => oneChat.get(jid) as ChatRow | undefined,
  };
}
