// GET /api/events[?chat=<jid>]: server-sent "ready", then "message" (id: seq), "typing" and, after 15 s of quiet, "ping".
import { Hono } from 'hono';
import { streamSSE, type SSEMessage } from 'hono/streaming';
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

export const eventsApi = (deps: EventsApiDeps) =>
  new Hono().get('/api/events', (c) => {
    const chat = c.req.query('chat');
    const wanted = (jid: string) => !chat || jid === chat;
    return streamSSE(c, async (stream) => {
      // One write at a time, in order.
      let sent = Promise.resolve();
      let quiet: NodeJS.Timeout | undefined;
      const send = (e: SSEMessage) => {
        if (stream.aborted) return;
        clearTimeout(quiet);
        sent = sent.then(() => stream.writeSSE(e));
        quiet = setTimeout(() => send({ event: 'ping', data: '{}' }), 15_000);
      };
      const typing = (chatJid: string, typing: boolean) =>
        send({ event: 'typing', data: JSON.stringify({ chatJid, typing } satisfies TypingEvent) });
      send({ event: 'ready', data: '{}' });
      // A client that connects mid-answer learns at once that the agent is at work.
      if (chat && deps.typing?.isTyping(chat)) typing(chat, true);
      const stops = [
        deps.subscribe((m) => {
          if (wanted(m.chatJid)) send({ event: 'message', data: JSON.stringify(toApiMessage(m)), id: String(m.seq) });
        }),
        deps.typing?.onTyping((jid, on) => wanted(jid) && typing(jid, on)),
      ];
      await new Promise<void>((done) => stream.onAbort(done));
      clearTimeout(quiet);
      for (const stop of stops) stop?.();
    });
  });
