// GET /api/events[?chat=<jid>]: new messages as server-sent events ("ready"
// once, then "message" with an ApiMessage and the seq as id, "ping" when quiet).
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { StoredMessage } from '../../store/messages.js';
import { toApiMessage } from './chats.js';

export interface EventsApiDeps {
  subscribe(listener: (msg: StoredMessage) => void): () => void;
}

export function eventsApi(deps: EventsApiDeps): Hono {
  const app = new Hono();
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
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      await stream.writeSSE({ event: 'ready', data: '{}' });
      while (!stream.aborted) {
        while (queue.length) {
          const m = queue.shift()!;
          await stream.writeSSE({ event: 'message', data: JSON.stringify(toApiMessage(m)), id: String(m.seq) });
        }
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 15_000);
        });
        wake = null;
        if (!queue.length && !stream.aborted) await stream.writeSSE({ event: 'ping', data: '{}' });
      }
      unsubscribe();
    });
  });
  return app;
}
