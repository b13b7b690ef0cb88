// Approval requests: an action an agent wants, held until the owner answers.
// Each request ends exactly once: every decision is one conditional UPDATE
// ... WHERE status = 'pending', so an answer, a timeout and a restart cannot
// both win. Codes are short and unambiguous, and only match a pending request.
import crypto from 'node:crypto';
import type { DB } from '../../core/store/db.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';
export const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I/L
export const CODE_LENGTH = 4;

export interface ApprovalRequest {
  id: string;
  groupFolder: string;
  chatJid: string;
  kind: string;
  /** The full action (command, URL, path): what a yes approves, exactly. */
  detail: string;
  /** sha256 of detail, hex. */
  detailHash: string;
  reason: string;
  code: string;
  status: ApprovalStatus;
  decidedBy: string | null;
  note: string | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
}

const COLUMNS = `id, group_folder AS groupFolder, chat_jid AS chatJid, kind, detail, detail_hash AS detailHash, reason, code, status,
  decided_by AS decidedBy, note, created_at AS createdAt, expires_at AS expiresAt, decided_at AS decidedAt`;

export function hashDetail(detail: string): string {
  return crypto.createHash('sha256').update(detail, 'utf8').digest('hex');
}

function newCode(): string {
  return Array.from(crypto.randomBytes(CODE_LENGTH), (b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('');
}

export function approvalQueries(db: DB, now: () => number = Date.now) {
  const insert = db.prepare(
    `INSERT INTO approval_requests (id, group_folder, chat_jid, kind, detail, detail_hash, reason, code, created_at, expires_at)
     VALUES (@id, @groupFolder, @chatJid, @kind, @detail, @detailHash, @reason, @code, @createdAt, @expiresAt)`,
  );
  const byId = db.prepare(`SELECT ${COLUMNS} FROM approval_requests WHERE id = ?`);
  const pendingByCode = db.prepare(`SELECT ${COLUMNS} FROM approval_requests WHERE code = ? AND status = 'pending'`);
  const codeInUse = db.prepare(`SELECT 1 FROM approval_requests WHERE code = ? AND status = 'pending'`);
  const decide = db.prepare(
    `UPDATE approval_requests SET status = @status, decided_by = @decidedBy, note = @note, decided_at = @at
     WHERE id = @id AND status = 'pending'`,
  );
  const denyAll = db.prepare(
    `UPDATE approval_requests SET status = 'denied', decided_by = 'host', note = @note, decided_at = @at WHERE status = 'pending'`,
  );
  const pending = db.prepare(`SELECT ${COLUMNS} FROM approval_requests WHERE status = 'pending' ORDER BY created_at`);
  const history = db.prepare(`SELECT ${COLUMNS} FROM approval_requests ORDER BY created_at DESC LIMIT ?`);

  return {
    /** A new pending request with a code no other pending request holds. */
    create(input: {
      groupFolder: string;
      chatJid: string;
      kind: string;
      detail: string;
      reason: string;
      timeoutMs: number;
    }): ApprovalRequest {
      const create = db.transaction(() => {
        let code = newCode();
        while (codeInUse.get(code)) code = newCode();
        const t = now();
        const row = {
          id: `apr-${crypto.randomBytes(6).toString('hex')}`,
          groupFolder: input.groupFolder,
          chatJid: input.chatJid,
          kind: input.kind,
          detail: input.detail,
          detailHash: hashDetail(input.detail),
          reason: input.reason,
          code,
          createdAt: new Date(t).toISOString(),
          expiresAt: new Date(t + input.timeoutMs).toISOString(),
        };
        insert.run(row);
        return row.id;
      });
      return byId.get(create()) as ApprovalRequest;
    },
    get(id: string): ApprovalRequest | undefined {
      return byId.get(id) as ApprovalRequest | undefined;
    },
    /** The pending request this code belongs to; a used, expired or unknown code finds none. */
    pendingByCode(code: string): ApprovalRequest | undefined {
      return pendingByCode.get(code.toUpperCase()) as ApprovalRequest | undefined;
    },
    /** Ends a pending request. False when it had already ended (another outcome won). */
    decide(
      id: string,
      status: Exclude<ApprovalStatus, 'pending'>,
      decidedBy: string,
      note: string | null = null,
    ): boolean {
      return decide.run({ id, status, decidedBy, note, at: new Date(now()).toISOString() }).changes === 1;
    },
    /** At start: whatever was waiting when the host stopped is denied, never approved. */
    denyAllPending(note: string): number {
      return denyAll.run({ note, at: new Date(now()).toISOString() }).changes;
    },
    pending(): ApprovalRequest[] {
      return pending.all() as ApprovalRequest[];
    },
    history(limit = 100): ApprovalRequest[] {
      return history.all(limit) as ApprovalRequest[];
    },
  };
}

export type ApprovalQueries = ReturnType<typeof approvalQueries>;

declare module '../../core/store/index.js' {
  interface StoreExtensions {
    approvals: ReturnType<typeof approvalQueries>;
  }
}
/** This plugin's queries on the store. */
export const approvalsStore = (db: DB) => ({ approvals: approvalQueries(db) });

/** This plugin's tables (the first entry IF NOT EXISTS: stores from before plugins kept their own have them). */
export const migrations: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS approval_requests (
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
  CREATE INDEX IF NOT EXISTS approval_status ON approval_requests (status, created_at);
  CREATE INDEX IF NOT EXISTS approval_code ON approval_requests (code);
  `,
];
