// The outbox and per-chat cursors, written with each reply in one transaction: never lost, never answered twice.
import type { MessageButton } from '../types.js';
import type { DB } from './db.js';

export interface OutboxItem {
  id: number;
  chatJid: string;
  text: string;
  persona: string | null;
  kind: string;
  createdAt: string;
  attempts: number;
  /** Host-only copy of a file sent with the text as caption. */
  mediaPath: string | null;
  buttons: MessageButton[] | null;
  /** A send not known to finish: the platform may already have it. */
  sendingAt: string | null;
}

export const SET_SESSION = `INSERT INTO sessions (group_folder, session_id, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (group_folder) DO UPDATE SET session_id = excluded.session_id, updated_at = excluded.updated_at`;
export const now = () => new Date().toISOString();

export function outboxQueries(db: DB) {
  const getCursor = db.prepare(`SELECT answered_seq FROM cursors WHERE chat_jid = ?`);
  const setCursor = db.prepare(
    `INSERT INTO cursors (chat_jid, answered_seq) VALUES (?, ?)
     ON CONFLICT (chat_jid) DO UPDATE SET answered_seq = MAX(cursors.answered_seq, excluded.answered_seq)`,
  );
  const enqueue = db.prepare(
    `INSERT INTO outbox (chat_jid, text, persona, kind, created_at, media_path, buttons) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const pending = db.prepare(
    `SELECT id, chat_jid AS chatJid, text, persona, kind, created_at AS createdAt, attempts,
     media_path AS mediaPath, buttons, sending_at AS sendingAt FROM outbox
     WHERE delivered_at IS NULL ORDER BY id`,
  );
  const markDelivered = db.prepare(`UPDATE outbox SET delivered_at = ? WHERE id = ?`);
  const markSending = db.prepare(`UPDATE outbox SET sending_at = ? WHERE id = ?`);
  const markFailed = db.prepare(`UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?`);
  const setSession = db.prepare(SET_SESSION);

  // Delivery listens here, so no writer has to remember to wake it.
  const listeners = new Set<() => void>();
  const fire = () => {
    for (const l of listeners) {
      try {
        l();
      } catch {
        /* the item is stored either way; the next wake sends it */
      }
    }
  };
  // Inside an outer transaction the row is not committed yet: tell listeners once it has run.
  const wrote = () => listeners.size && (db.inTransaction ? queueMicrotask(fire) : fire());

  return {
    onWrite(listener: () => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    cursor: (chatJid: string) => (getCursor.get(chatJid) as { answered_seq: number } | undefined)?.answered_seq ?? 0,
    setCursor: (chatJid: string, seq: number) => void setCursor.run(chatJid, seq),

    enqueue(
      chatJid: string,
      text: string,
      opts: { persona?: string; kind?: string; mediaPath?: string; buttons?: MessageButton[] } = {},
    ) {
      const id = enqueue.run(
        chatJid,
        text,
        opts.persona ?? null,
        opts.kind ?? 'message',
        now(),
        opts.mediaPath ?? null,
        opts.buttons?.length ? JSON.stringify(opts.buttons) : null,
      );
      wrote();
      return Number(id.lastInsertRowid);
    },

    commitTurn(t: {
      chatJid: string;
      upToSeq: number;
      reply?: string;
      groupFolder?: string;
      sessionId?: string;
    }): number | null {
      const id = db.transaction(() => {
        const id = t.reply
          ? Number(enqueue.run(t.chatJid, t.reply, null, 'reply', now(), null, null).lastInsertRowid)
          : null;
        if (t.groupFolder && t.sessionId) setSession.run(t.groupFolder, t.sessionId, now());
        setCursor.run(t.chatJid, t.upToSeq);
        return id;
      })();
      if (id !== null) wrote();
      return id;
    },

    pending: (): OutboxItem[] =>
      (pending.all() as (Omit<OutboxItem, 'buttons'> & { buttons: string | null })[]).map((r) => ({
        ...r,
        buttons: r.buttons ? (JSON.parse(r.buttons) as MessageButton[]) : null,
      })),
    markDelivered: (id: number) => void markDelivered.run(now(), id),
    /** Until delivered, a restart treats the item as maybe sent. */
    markSending: (id: number) => void markSending.run(now(), id),
    /** Keeps sending_at: a timeout can hide an accepted send. */
    markFailed: (id: number, error: string) => void markFailed.run(error.slice(0, 500), id),
    deliverWith(id: number, fn: () => void) {
      db.transaction(() => {
        fn();
        markDelivered.run(now(), id);
      })();
    },
  };
}
