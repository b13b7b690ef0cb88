// Forgetting over the local HTTP API, for `nanoclaw forget` and the
// dashboard. The API token is the owner's, so it may forget in any chat; the
// preview/confirm pair is the same as the agent's tools (single-use id).
//   POST   /api/forget/preview   { phrase?, chat?, sender?, since?, until?, includeAudit? }
//                                 → { preview: { id, places, kept, total, expiresAt } }
//          (the audit trail, approval records and the log lines recording security decisions, is kept and listed
//          under `kept` unless the owner explicitly sets includeAudit: true)
//   POST   /api/forget/confirm   { previewId } → { receipt }
//   GET    /api/forget/receipts  → { receipts }   (counts and places, never the erased content)
//   GET    /api/forget/opt-outs  → { optOuts: [{ chatJid, sender, senderName, createdAt }] }
//   DELETE /api/forget/opt-outs  { chatJid, sender } → { removed }
import { Hono } from 'hono';
import type { ForgetEngine, ForgetRequest } from './engine.js';
import type { Store } from '../../core/store/index.js';
import { ApiError, objectBody } from '../../core/api/errors.js';

export interface ForgetApiDeps {
  store: Store;
  engine: ForgetEngine;
}

const OWNER = { chatJid: 'api', sender: 'owner' };

const str = (v: unknown, what: string): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > 500)
    throw new ApiError('invalid', `${what} must be text of at most 500 characters.`);
  return v;
};
const date = (v: unknown, what: string): string | undefined => {
  const s = str(v, what);
  if (s === undefined) return undefined;
  if (Number.isNaN(Date.parse(s))) throw new ApiError('invalid', `${what} must be an ISO date, e.g. 2026-03-01.`);
  return new Date(Date.parse(s)).toISOString();
};

/** The owner's request: one chat (jid or folder) or every chat. */
export function apiRequest(store: Store, body: Record<string, unknown>): ForgetRequest {
  const phrase = str(body.phrase, 'phrase');
  const sender = str(body.sender, 'sender');
  const since = date(body.since, 'since');
  const until = date(body.until, 'until');
  if (phrase !== undefined && phrase.trim().length < 2)
    throw new ApiError('invalid', 'phrase must be at least 2 characters.');
  if (!phrase && !sender && !since && !until)
    throw new ApiError('invalid', 'Say what to forget: phrase, sender, since or until.');
  if (body.includeAudit !== undefined && typeof body.includeAudit !== 'boolean')
    throw new ApiError('invalid', 'includeAudit must be true or false.');
  const chat = str(body.chat, 'chat');
  const base = { phrase, sender, since, until, includeHost: true, includeAudit: body.includeAudit === true };
  if (!chat || chat === 'all')
    return {
      ...base,
      chatJids: undefined,
      folders: store.groups.list().map((g) => g.folder),
      includeGlobal: true,
      scopeLabel: 'every chat',
    };
  const g = store.groups.get(chat) ?? store.groups.byFolder(chat);
  if (!g && !store.messages.chat(chat))
    throw new ApiError('not_found', `No chat "${chat.slice(0, 80)}": GET /api/groups lists them.`);
  const jid = g?.jid ?? chat;
  return {
    ...base,
    chatJids: [jid],
    folders: g ? [g.folder] : [],
    includeGlobal: true,
    senderNames: sender ? store.forget.namesOf(jid, sender) : [],
    scopeLabel: `chat ${jid}`,
  };
}

export function forgetApi(deps: ForgetApiDeps): Hono {
  const { store, engine } = deps;
  const app = new Hono();
  app.post('/api/forget/preview', async (c) => {
    const body = await objectBody(c, '{ phrase?, chat?, sender?, since?, until?, includeAudit? }');
    const p = engine.preview(apiRequest(store, body), OWNER);
    const { id, places, kept, total } = p;
    return c.json({ preview: { id, places, kept, total, expiresAt: p.expiresAt.toISOString() } });
  });
  app.post('/api/forget/confirm', async (c) => {
    const body = await objectBody(c, '{ previewId }');
    const id = str(body.previewId, 'previewId');
    if (!id) throw new ApiError('invalid', 'previewId is required: POST /api/forget/preview first.');
    const res = engine.confirm(id, OWNER);
    if (!res.ok) throw new ApiError('conflict', res.error);
    await res.settled;
    return c.json({ receipt: store.forget.receipt(res.receipt.id) ?? res.receipt });
  });
  app.get('/api/forget/receipts', (c) => c.json({ receipts: store.forget.receipts(100) }));
  app.get('/api/forget/opt-outs', (c) => c.json({ optOuts: store.forget.optOuts() }));
  app.delete('/api/forget/opt-outs', async (c) => {
    const body = await objectBody(c, '{ chatJid, sender }');
    const chatJid = str(body.chatJid, 'chatJid');
    const sender = str(body.sender, 'sender');
    if (!chatJid || !sender)
      throw new ApiError('invalid', 'chatJid and sender are required (GET /api/forget/opt-outs lists them).');
    if (!store.forget.optIn(chatJid, sender))
      throw new ApiError('not_found', `${sender} has not opted out in ${chatJid}.`);
    return c.json({ removed: `${chatJid} ${sender}` });
  });
  return app;
}
