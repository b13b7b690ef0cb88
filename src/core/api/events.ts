// GET /api/events[?chat=<jid>]: server-sent "ready", then "message" (id: seq), "typing" and, when quiet, "ping".
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { LocalTyping } from '../channels/local/local.js';
import type { StoredMessage } from '../store/messages.js';
import { toApiMessage } from './chats.js';

export interface EventsApiDeps {
  subscribe(listener: (msg: StoredMessage) => void): () => void;
  typing?: LocalTyping;
}

export interface TypingEvent {
  chatJid: string;
  typing: boolean;
}

type Outgoing = { kind: 'message'; m: StoredMessage } | ({ kind: 'typing' } & TypingEvent);

export function eventsApi(deps: EventsApiDeps): Hono {
  const app = new Hono();
  app.get('/api/events', (c) => {
    const chat = c.req.query('chat');
    return streamSSE(c, async (stream) => {
      const queue: Outgoing[] = [];
      let wake: (() => void) | null = null;
      const push = (o: Outgoing) => {
        queue.push(o);
        wake?.();
      };
      const unsubscribeMessages = deps.subscribe((m) => {
        if (!chat || m.chatJid === chat) push({ kind: 'message', m });
      });
      const unsubscribeTyping =
        deps.typing?.onTyping((jid, typing) => {
          if (!chat || jid === chat) push({ kind: 'typing', chatJid: jid, typing });
        }) ?? (() => {});
      const unsubscribe = () => {
        unsubscribeMessages();
        unsubscribeTyping();
      };
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      await stream.writeSSE({ event: 'ready', data: '{}' });
      // A client that connects mid-answer learns at once that the agent is at work.
      if (chat && deps.typing?.isTyping(chat)) queue.unshift({ kind: 'typing', chatJid: chat, typing: true });
      while (!stream.aborted) {
        while (queue.length) {
          const o = queue.shift()!;
          if (o.kind === 'message')
            await stream.writeSSE({ event: 'message', data: JSON.stringify(toApiMessage(o.m)), id: String(o.m.seq) });
          else
            await stream.writeSSE({ event: 'typing', data: JSON.stringify({ chatJid: o.chatJid, typing: o.typing }) });
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
