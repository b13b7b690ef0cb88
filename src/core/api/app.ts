// The local HTTP API (Hono): one sub-app per resource, all behind the bearer token from data/api-token but /healthz
// (and the dashboard's static page).
import crypto from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { localMessage, type LocalTyping } from '../channels/local/local.js';
import type { HomePaths } from '../config/home.js';
import { redact } from '../secrets.js';
import type { Store } from '../store/index.js';
import { storeProblem } from '../store/problem.js';
import type { Channel, Message } from '../types.js';
import { chatsApi, MAX_TEXT, type ChatsApiDeps } from './chats.js';
import { ApiError, errorResponse } from './errors.js';
import { eventsApi, type EventsApiDeps } from './events.js';
import type { StatusResponse } from './types.js';

export type ApiDeps = ChatsApiDeps &
  EventsApiDeps & {
    token: string;
    status(): StatusResponse;
    /** Extra routes (the plugins', tests'), added last. */
    extend?(app: Hono): void;
  };

export function createApi(deps: ApiDeps): Hono {
  const app = new Hono().onError(errorResponse);
  // Every answer but the event stream is redacted whole, so no route has to remember a secret may be in it.
  app.use('*', async (c, next) => {
    await next();
    const type = c.res.headers.get('content-type') ?? '';
    if (!/json|text\/|svg/.test(type) || type.includes('event-stream')) return;
    const text = await c.res.text();
    const headers = new Headers(c.res.headers);
    headers.delete('content-length');
    c.res = new Response(redact(text), { status: c.res.status, statusText: c.res.statusText, headers });
  });
  app.get('/healthz', (c) => c.json({ ok: true }));
  const token = Buffer.from(deps.token);
  app.use(
    '/api/*',
    async (c, next) => {
      const header = c.req.header('authorization') ?? '';
      const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7).trim() : '');
      if (!given.length || given.length !== token.length || !crypto.timingSafeEqual(given, token))
        throw new ApiError(
          'unauthorized',
          'Missing or wrong API token: send "Authorization: Bearer <token>" with the token from data/api-token.',
        );
      await next();
    },
    bodyLimit({
      maxSize: MAX_TEXT * 2 + 64 * 1024,
      onError: (c) => errorResponse(new ApiError('too_large', 'Request body too large (max 4 MB).'), c),
    }),
  );
  app.get('/api/status', (c) => c.json<StatusResponse>(deps.status()));
  for (const part of [chatsApi(deps), eventsApi(deps)]) app.route('/', part);
  deps.extend?.(app);
  return app;
}

/** The running host's API: the routes wired to the core's parts. */
export function hostApi(
  h: Pick<ApiDeps, 'token' | 'status' | 'subscribe' | 'extend'> & {
    store: Store;
    paths: HomePaths;
    local: Channel & LocalTyping;
    receive(msg: Message, ch: Channel): unknown;
  },
): Hono {
  const { paths, local } = h;
  return createApi({
    ...h,
    typing: local,
    storeProblem: (err) => storeProblem(err, paths.db),
    injectLocal: (input) => {
      const msg = localMessage(input);
      h.receive(msg, local);
      return { id: msg.id };
    },
  });
}
