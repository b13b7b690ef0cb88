// Pairing requests: one-time codes offered to strangers in direct chats. Codes
// expire after an hour, and at most three wait at once, so a flood of strangers
// cannot fill the store.
import crypto from 'node:crypto';
import type { DB } from '../../core/store/db.js';

export const PAIRING_TTL_MS = 60 * 60 * 1000;
export const MAX_PENDING = 3;
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I

export interface PairingRequest {
  code: string;
  channel: string;
  chatJid: string;
  sender: string;
  senderName: string;
  createdAt: string;
  status: string;
}

function newCode(): string {
  const bytes = crypto.randomBytes(6);
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('');
}

export function pairingQueries(db: DB, now: () => number = Date.now) {
  const expireOld = () =>
    db
      .prepare(`UPDATE pairing_requests SET status = 'expired' WHERE status = 'pending' AND created_at < ?`)
      .run(new Date(now() - PAIRING_TTL_MS).toISOString());
  return {
    pending(): PairingRequest[] {
      expireOld();
      return db
        .prepare(
          `SELECT code, channel, chat_jid AS chatJid, sender, sender_name AS senderName, created_at AS createdAt, status FROM pairing_requests WHERE status = 'pending' ORDER BY created_at`,
        )
        .all() as PairingRequest[];
    },
    /** A code for this chat: its existing pending one, a new one, or null when too many wait. */
    request(
      channel: string,
      chatJid: string,
      sender: string,
      senderName: string,
    ): { code: string; isNew: boolean } | null {
      const pending = this.pending();
      const existing = pending.find((p) => p.chatJid === chatJid);
      if (existing) return { code: existing.code, isNew: false };
      if (pending.length >= MAX_PENDING) return null;
      const code = newCode();
      db.prepare(
        `INSERT INTO pairing_requests (code, channel, chat_jid, sender, sender_name, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(code, channel, chatJid, sender, senderName.slice(0, 100), new Date(now()).toISOString());
      return { code, isNew: true };
    },
    /** Marks a pending, unexpired code approved and returns it; null if there is no such code. */
    approve(code: string): PairingRequest | null {
      expireOld();
      const row = db
        .prepare(
          `SELECT code, channel, chat_jid AS chatJid, sender, sender_name AS senderName, created_at AS createdAt, status FROM pairing_requests WHERE code = ? AND status = 'pending'`,
        )
        .get(code.toUpperCase()) as PairingRequest | undefined;
      if (!row) return null;
      db.prepare(`UPDATE pairing_requests SET status = 'approved' WHERE code = ?`).run(row.code);
      return row;
    },
  };
}

export type PairingQueries = ReturnType<typeof pairingQueries>;

declare module '../../core/store/index.js' {
  interface StoreExtensions {
    pairing: ReturnType<typeof pairingQueries>;
  }
}
/** This plugin's queries on the store. */
export const pairingStore = (db: DB) => ({ pairing: pairingQueries(db) });

/** This plugin's tables (the first entry IF NOT EXISTS: stores from before plugins kept their own have them). */
export const migrations: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS pairing_requests (
    code TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    chat_jid TEXT NOT NULL,
    sender TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
  );
  `,
];
