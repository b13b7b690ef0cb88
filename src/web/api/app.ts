// The local HTTP API (Hono): the local channel's way in, chat history, a live
// event stream, group management and status. Everything but /healthz needs
// the bearer token from data/api-token.
import crypto from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { isLocalJid } from '../../channels/local/local.js';
import type { Result } from '../../groups/registration.js';
import type { Store } from '../../store/index.js';
import type { StoredMessage } from '../../store/messages.js';
import type { RegisteredGroup } from '../../types.js';

export interface ApiDeps {
  store: Store;
  token: string;
  injectLocal(input: { chatJid: string; sender: string; senderName: string; text: string }): { id: string };
  subscribe(listener: (msg: StoredMessage) => void): () => void;
  register(input: Record<string, unknown>): Result<RegisteredGroup>;
  unregister(jid: string): Result<RegisteredGroup>;
  status(): unknown;
  /** Words for a storage failure (full disk, read-only store). */
  storeProblem?(err: unknown): string;
  /** Extra routes (dashboard, tasks, usage) mounted by their own modules. */
  extend?(app: Hono): void;
}

const MAX_TEXT = 2 * 1024 * 1024;

const postMessage = z.object({
  sender: z.string().min(1).max(200).optional(),
  senderName: z.string().min(1).max(200).optional(),
  text: z.string().min(1).max(MAX_TEXT),
});

export function toApiMessage(m: StoredMessage) {
  return {
    id: m.id, chatJid: m.chatJid, sender: m.sender, senderName: m.senderName, text: m.text, timestamp: m.timestamp,
    fromAssistant: m.fromAssistant, seq: m.seq, replyTo: m.replyTo ?? null, attachments: m.attachments ?? [],
  };
}

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export function createApi(deps: ApiDeps): Hono {
  const app = new Hono();

  app.onError((err, c) => c.json({ error: `Internal error: ${err.message}. See logs/nanoclaw.log.` }, 500));
  app.get('/healthz', (c) => c.json({ ok: true }));

  app.use('/api/*', async (c, next) => {
    const header = c.req.header('authorization');
    const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!tokenMatches(given, deps.token)) {
      return c.json({ error: 'Missing or wrong API token: send "Authorization: Bearer <token>" with the token from data/api-token.' }, 401);
    }
    await next();
  });
  app.use('/api/*', bodyLimit({ maxSize: MAX_TEXT * 2 + 64 * 1024, onError: (c) => c.json({ error: 'Request body too large (max 4 MB).' }, 413) }));

  app.post('/api/chats/:jid/messages', async (c) => {
    const jid = c.req.param('jid');
    if (!isLocalJid(jid)) return c.json({ error: `Only local chats (local:<name>) take messages through the API; "${jid.slice(0, 80)}" is not one.` }, 400);
    let body: unknown;
    try { body = await c.req.json(); } catch { return c.json({ error: 'Body must be JSON: { "sender", "senderName", "text" }.' }, 400); }
    const parsed = postMessage.safeParse(body);
    if (!parsed.success) return c.json({ error: `Invalid message: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}` }, 400);
    try {
      const { id } = deps.injectLocal({
        chatJid: jid,
        sender: parsed.data.sender ?? 'local-user',
        senderName: parsed.data.senderName ?? parsed.data.sender ?? 'You',
        text: parsed.data.text,
      });
      return c.json({ id }, 202);
    } catch (err) {
      // Not accepted, so the sender knows to try again: nothing half-stored.
      return c.json({ error: deps.storeProblem ? deps.storeProblem(err) : `Could not store the message: ${(err as Error).message}` }, 503);
    }
  });

  app.get('/api/chats/:jid/messages', (c) => {
    const jid = c.req.param('jid');
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 500) || 500, 1), 5000);
    const after = Number(c.req.query('after') ?? 0) || 0;
    const messages = after > 0 ? deps.store.messages.after(jid, after, limit) : deps.store.messages.recent(jid, limit);
    return c.json({ messages: messages.map(toApiMessage) });
  });

  app.get('/api/events', (c) => {
    const chat = c.req.query('chat');
    return streamSSE(c, async (stream) => {
      const queue: StoredMessage[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = deps.subscribe((m) => {
        if (chat && m.chatJid !== chat) return;
        queue.push(m);
        wake?.();
      });
      stream.onAbort(() => { unsubscribe(); wake?.(); });
      await stream.writeSSE({ event: 'ready', data: '{}' });
      while (!stream.aborted) {
        while (queue.length) {
          const m = queue.shift()!;
          await stream.writeSSE({ event: 'message', data: JSON.stringify(toApiMessage(m)), id: String(m.seq) });
        }
        await new Promise<void>((r) => { wake = r; setTimeout(r, 15_000); });
        wake = null;
        if (!queue.length && !stream.aborted) await stream.writeSSE({ event: 'ping', data: '{}' });
      }
      unsubscribe();
    });
  });

  app.get('/api/groups', (c) => {
    const registered = deps.store.groups.list();
    const known = deps.store.messages.chats().filter((ch) => !registered.some((g) => g.jid === ch.jid));
    return c.json({ groups: registered, unregistered: known });
  });

  app.post('/api/groups', async (c) => {
    let body: any;
    try { body = await c.req.json(); } catch { return c.json({ error: 'Body must be JSON.' }, 400); }
    if (!body || typeof body !== 'object') return c.json({ error: 'Body must be a JSON object.' }, 400);
    const res = deps.register(body);
    return res.ok ? c.json({ group: res.value }, 201) : c.json({ error: res.error }, res.error.includes('already') ? 409 : 400);
  });

  app.delete('/api/groups/:jid', (c) => {
    const res = deps.unregister(c.req.param('jid'));
    return res.ok ? c.json({ removed: res.value.jid }) : c.json({ error: res.error }, res.error.includes('not registered') ? 404 : 400);
  });

  app.get('/api/status', (c) => c.json(deps.status() as object));

  deps.extend?.(app);
  return app;
}
