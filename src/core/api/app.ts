// The local HTTP API (Hono): one sub-app per resource, each given only what it
// needs, combined here behind the bearer token (everything but /healthz and the
// dashboard's static page needs the token from data/api-token). Routes throw
// ApiError; errorResponse turns its code into the HTTP status.
import crypto from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { redact } from '../secrets.js';
import type { Store } from '../store/index.js';
import { chatsApi, MAX_TEXT, type ChatsApiDeps } from './chats.js';
import { ApiError, errorResponse } from './errors.js';
import { eventsApi, type EventsApiDeps } from './events.js';
import { groupsApi, type GroupsApiDeps } from './groups.js';
import { localMessage } from '../channels/local/local.js';
import type { Config } from '../config/config.js';
import type { HomePaths } from '../config/home.js';
import { registerGroup, unregisterGroup, type RegisterInput } from '../groups/registration.js';
import { storeProblem } from '../store/problem.js';
import type { Channel, Message } from '../types.js';
import { statusApi } from './status.js';
import type { StatusResponse } from './types.js';

export interface ApiDeps {
  token: string;
  store: Store;
  injectLocal: ChatsApiDeps['injectLocal'];
  /** Words for a storage failure (full disk, read-only store). */
  storeProblem?: ChatsApiDeps['storeProblem'];
  subscribe: EventsApiDeps['subscribe'];
  typing?: EventsApiDeps['typing'];
  register: GroupsApiDeps['register'];
  unregister: GroupsApiDeps['unregister'];
  /** Extra mounts a PATCH may save (the mount allowlist). */
  checkSettings: GroupsApiDeps['checkSettings'];
  status(): StatusResponse;
  /** Extra routes (tests, bench), added last. */
  extend?(app: Hono): void;
}

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Refuses every /api/* request without the bearer token, and bodies over 4 MB. */
function guard(app: Hono, token: string): void {
  app.use('/api/*', async (c, next) => {
    const header = c.req.header('authorization');
    const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!tokenMatches(given, token)) {
      throw new ApiError(
        'unauthorized',
        'Missing or wrong API token: send "Authorization: Bearer <token>" with the token from data/api-token.',
      );
    }
    await next();
  });
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_TEXT * 2 + 64 * 1024,
      onError: (c) => errorResponse(new ApiError('too_large', 'Request body too large (max 4 MB).'), c),
    }),
  );
}

/** Every answer but the event stream is redacted whole, so no route has to remember a secret may be in it. */
function redactAnswers(app: Hono): void {
  app.use('*', async (c, next) => {
    await next();
    const type = c.res.headers.get('content-type') ?? '';
    if (!/json|text\/|svg/.test(type) || type.includes('event-stream')) return;
    const text = await c.res.text();
    const headers = new Headers(c.res.headers);
    headers.delete('content-length');
    c.res = new Response(redact(text), { status: c.res.status, statusText: c.res.statusText, headers });
  });
}

export function createApi(deps: ApiDeps): Hono {
  const app = new Hono();
  app.onError(errorResponse);
  redactAnswers(app);
  app.get('/healthz', (c) => c.json({ ok: true }));
  guard(app, deps.token);

  app.route(
    '/',
    chatsApi({ messages: deps.store.messages, injectLocal: deps.injectLocal, storeProblem: deps.storeProblem }),
  );
  app.route('/', eventsApi({ subscribe: deps.subscribe, typing: deps.typing }));
  app.route(
    '/',
    groupsApi({
      store: deps.store,
      register: deps.register,
      unregister: deps.unregister,
      checkSettings: deps.checkSettings,
    }),
  );
  app.route('/', statusApi({ status: deps.status }));

  deps.extend?.(app);
  return app;
}

/** The running host's API: its routes wired to the core's parts; plugins' routes come through `extend`. */
export function hostApi(h: {
  config: Config;
  paths: HomePaths;
  store: Store;
  token: string;
  status(): StatusResponse;
  subscribe: EventsApiDeps['subscribe'];
  local: Channel & NonNullable<EventsApiDeps['typing']>;
  receive(msg: Message, ch: Channel): unknown;
  checkSettings: GroupsApiDeps['checkSettings'];
  extend(app: Hono): void;
}): Hono {
  const { config, paths, store } = h;
  return createApi({
    store,
    token: h.token,
    status: h.status,
    subscribe: h.subscribe,
    typing: h.local,
    storeProblem: (err) => storeProblem(err, paths.db),
    injectLocal: (input) => {
      const msg = localMessage(input);
      h.receive(msg, h.local);
      return { id: msg.id };
    },
    // registerGroup checks every field itself: the body is only shaped like its input.
    register: (input) =>
      registerGroup({ store, paths, assistantName: config.assistantName }, input as unknown as RegisterInput),
    unregister: (jid) => unregisterGroup({ store }, jid),
    checkSettings: h.checkSettings,
    extend: h.extend,
  });
}
