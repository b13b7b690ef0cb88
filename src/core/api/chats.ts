// POST /api/chats/:jid/messages (local chats only) and GET …?limit=&after= (any chat's history, oldest first).
import { Hono } from 'hono';
import { z } from 'zod';
import { isLocalJid } from '../channels/local/local.js';
import type { Store } from '../store/index.js';
import type { StoredMessage } from '../store/messages.js';
import { ApiError, check, jsonBody } from './errors.js';
import type { AcceptedResponse, ApiMessage, MessagesResponse } from './types.js';

export interface ChatsApiDeps {
  store: Pick<Store, 'messages'>;
  injectLocal(input: { chatJid: string; sender: string; senderName: string; text: string }): { id: string };
  /** Words for a storage failure (full disk, read-only store). */
  storeProblem(err: unknown): string;
}

export const MAX_TEXT = 2 * 1024 * 1024;
const name = z.string().min(1).max(200).optional();
const postMessage = z.object({ sender: name, senderName: name, text: z.string().min(1).max(MAX_TEXT) });

export const toApiMessage = (m: StoredMessage): ApiMessage => ({
  id: m.id,
  chatJid: m.chatJid,
  sender: m.sender,
  senderName: m.senderName,
  text: m.text,
  timestamp: m.timestamp,
  fromAssistant: m.fromAssistant,
  seq: m.seq,
  replyTo: m.replyTo ?? null,
  attachments: m.attachments ?? [],
});

export function chatsApi({ store, injectLocal, storeProblem }: ChatsApiDeps): Hono {
  const app = new Hono();
  app.post('/api/chats/:jid/messages', async (c) => {
    const chatJid = c.req.param('jid');
    if (!isLocalJid(chatJid))
      throw new ApiError(
        'invalid',
        `Only local chats (local:<name>) take messages through the API; "${chatJid.slice(0, 80)}" is not one.`,
      );
    const body = await jsonBody(c, 'Body must be JSON: { "sender", "senderName", "text" }.');
    const { sender, senderName, text } = check(postMessage, body, 'Invalid message: ');
    try {
      const { id } = injectLocal({
        chatJid,
        sender: sender ?? 'local-user',
        senderName: senderName ?? sender ?? 'You',
        text,
      });
      return c.json<AcceptedResponse>({ id }, 202);
    } catch (err) {
      // Not accepted, so the sender knows to try again: nothing half-stored.
      throw new ApiError('storage', storeProblem(err));
    }
  });
  return app.get('/api/chats/:jid/messages', (c) => {
    const jid = c.req.param('jid');
    const limit = Math.min(Math.max(Number(c.req.query('limit')) || 500, 1), 5000);
    const after = Number(c.req.query('after')) || 0;
    const found = after > 0 ? store.messages.after(jid, after, limit) : store.messages.recent(jid, limit);
    return c.json<MessagesResponse>({ messages: found.map(toApiMessage) });
  });
}
