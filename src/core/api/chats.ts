// POST /api/chats/:jid/messages (local chats only) and GET …?limit=&after= (every chat's history, oldest first).
import { Hono } from 'hono';
import { z } from 'zod';
import { isLocalJid } from '../channels/local/local.js';
import type { Store } from '../store/index.js';
import type { StoredMessage } from '../store/messages.js';
import { ApiError, jsonBody } from './errors.js';
import type { AcceptedResponse, ApiMessage, MessagesResponse } from './types.js';

export interface ChatsApiDeps {
  messages: Pick<Store['messages'], 'after' | 'recent'>;
  injectLocal(input: { chatJid: string; sender: string; senderName: string; text: string }): { id: string };
  storeProblem?(err: unknown): string;
}

export const MAX_TEXT = 2 * 1024 * 1024;

const postMessage = z.object({
  sender: z.string().min(1).max(200).optional(),
  senderName: z.string().min(1).max(200).optional(),
  text: z.string().min(1).max(MAX_TEXT),
});

export function toApiMessage(m: StoredMessage): ApiMessage {
  return {
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
  };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

export function chatsApi(deps: ChatsApiDeps): Hono {
  const app = new Hono();

  app.post('/api/chats/:jid/messages', async (c) => {
    const jid = c.req.param('jid');
    if (!isLocalJid(jid))
      throw new ApiError(
        'invalid',
        `Only local chats (local:<name>) take messages through the API; "${jid.slice(0, 80)}" is not one.`,
      );
    const parsed = postMessage.safeParse(await jsonBody(c, 'Body must be JSON: { "sender", "senderName", "text" }.'));
    if (!parsed.success) throw new ApiError('invalid', `Invalid message: ${describeIssues(parsed.error)}`);
    let accepted: AcceptedResponse;
    try {
      accepted = deps.injectLocal({
        chatJid: jid,
        sender: parsed.data.sender ?? 'local-user',
        senderName: parsed.data.senderName ?? parsed.data.sender ?? 'You',
        text: parsed.data.text,
      });
    } catch (err) {
      // Not accepted, so the sender knows to try again: nothing half-stored.
      throw new ApiError(
        'storage',
        deps.storeProblem ? deps.storeProblem(err) : `Could not store the message: ${(err as Error).message}`,
      );
    }
    return c.json<AcceptedResponse>({ id: accepted.id }, 202);
  });

  app.get('/api/chats/:jid/messages', (c) => {
    const jid = c.req.param('jid');
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 500) || 500, 1), 5000);
    const after = Number(c.req.query('after') ?? 0) || 0;
    const messages = after > 0 ? deps.messages.after(jid, after, limit) : deps.messages.recent(jid, limit);
    return c.json<MessagesResponse>({ messages: messages.map(toApiMessage) });
  });

  return app;
}
