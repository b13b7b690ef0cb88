// The outbox and per-chat cursors, written with each reply in one transaction: never lost, never answered twice.
import type { MessageButton } from '../types.js';
import type { DB } from './db.js';

export type OutboxItem = {
  id: number;
  chatJid: string;
  text: string;
  persona: string | null;
  kind: string;
  createdAt: string;
  attempts: number;
  mediaPath: string | null; // host-only file, the text its caption
  buttons: MessageButton[] | null;
  sendingAt: string | null; // the platform may already have it
};
type Enqueue = { persona?: string; kind?: string; mediaPath?: string; buttons?: MessageButton[] };

export const SET_SESSION = `INSERT INTO sessions (group_folder, session_id, updated_at) VALUES (?, ?, ?)
  ON CONFLICT (group_folder) DO UPDATE SET session_id = excluded.session_id, updated_at = excluded.updated_at`;
export const now = () => new Date().toISOString();

export function outboxQueries(db: DB) {
  const q = (sql: string) => db.prepare(sql);
  const cursor = q(`SELECT answered_seq FROM cursors WHERE chat_jid = ?`).pluck();
  const setCursor = q(`INSERT INTO cursors (chat_jid, answered_seq) VALUES (?, ?)
    ON CONFLICT (chat_jid) DO UPDATE SET answered_seq = MAX(cursors.answered_seq, excluded.answered_seq)`);
  const insert = q(`INSERT INTO outbox (chat_jid, text, persona, kind, media_path, buttons, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const add = (...a: (string | null)[]) => Number(insert.run(...a, now()).lastInsertRowid);
  const pending = q(`SELECT id, chat_jid AS chatJid, text, persona, kind, created_at AS createdAt, attempts,
    media_path AS mediaPath, buttons, sending_at AS sendingAt FROM outbox WHERE delivered_at IS NULL ORDER BY id`);
  const [delivered, sending] = ['delivered_at', 'sending_at'].map((c) => q(`UPDATE outbox SET ${c} = ? WHERE id = ?`));
  const failed = q(`UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?`);
  const setSession = q(SET_SESSION);

  // Delivery listens here, so no writer has to remember to wake it.
  const listeners = new Set<() => void>();
  const fire = () =>
    listeners.forEach((l) => {
      try {
        l();
      } catch {
        /* stored either way */
      }
    });
  // Inside an outer transaction the row is not committed yet: wait until it has run.
  const wrote = () => listeners.size && (db.inTransaction ? queueMicrotask(fire) : fire());

  return {
    onWrite(listener: () => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    cursor: (chatJid: string) => (cursor.get(chatJid) as number | undefined) ?? 0,
    setCursor: (chatJid: string, seq: number) => void setCursor.run(chatJid, seq),

    enqueue(chatJid: string, text: string, o: Enqueue = {}) {
      const buttons = o.buttons?.length ? JSON.stringify(o.buttons) : null;
      const id = add(chatJid, text, o.persona ?? null, o.kind ?? 'message', o.mediaPath ?? null, buttons);
      wrote();
      return id;
    },

    commitTurn(t: { chatJid: string; upToSeq: number; reply?: string; groupFolder?: string; sessionId?: string }) {
      const id = db.transaction(() => {
        const id = t.reply ? add(t.chatJid, t.reply, null, 'reply', null, null) : null;
        if (t.groupFolder && t.sessionId) setSession.run(t.groupFolder, t.sessionId, now());
        setCursor.run(t.chatJid, t.upToSeq);
        return id;
      })();
      if (id !== null) wrote();
      return id;
    },

    pending: (): OutboxItem[] =>
      pending.all().map((r: any) => ({ ...r, buttons: r.buttons ? JSON.parse(r.buttons) : null })),
    /** Until delivered, a restart treats it as maybe sent. */
    markSending: (id: number) => void sending.run(now(), id),
    /** Keeps sending_at: a timeout can hide an accepted send. */
    markFailed: (id: number, error: string) => void failed.run(error.slice(0, 500), id),
    /** `fn`'s writes and the item's delivery commit together. */
    deliverWith: <T>(id: number, fn: () => T): T =>
      db.transaction(() => {
        const result = fn();
        delivered.run(now(), id);
        return result;
      })(),
  };
}
