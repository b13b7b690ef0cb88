// Sends each model call to the upstream in use and, when it is overloaded, failing, silent, unreachable, refuses its
// key or is out of credit, sends the same call to the next one, so the turn goes on. Once a fallback answers, calls go
// there until a background check finds the primary answering again; each chat hears once per switch who answered.
import type { Identity } from '../../core/gateway/types.js';
import type { Logger } from '../../core/logger.js';
import { redact } from '../../core/secrets.js';
import type { Fallback } from './settings.js';

export interface FailoverDeps {
  /** ANTHROPIC_BASE_URL; its credential is the one the core puts on each call. */
  primary: string;
  fallbacks: Fallback[];
  timeoutMs: number;
  checkMs: number;
  /** A line in the chat. */
  tell(chatJid: string, text: string): void;
  logger: Logger;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface FailoverState {
  /** The upstream answering now. */
  active: string;
  onPrimary: boolean;
  /** When it became the one in use; null before any switch. */
  since: string | null;
  /** Why the host left the primary; null on the primary. */
  why: string | null;
  fallbacks: { url: string; model: string | null; keyEnv: string | null }[];
}

type Tried = { res: Response } | { why: string; res?: Response };

const CREDIT = /credit balance|billing|insufficient.{0,20}(credit|funds|balance)/i;
const AUTH_HEADERS = ['x-api-key', 'authorization'];

/** Why an answer means "try the next upstream", or null when it is the answer (success, or the request's own fault). */
async function failure(res: Response): Promise<{ why: string; res: Response } | null> {
  const s = res.status;
  if (s < 400) return null;
  // Small error bodies: read whole, so the last one can still be passed on.
  const text = await res.text().catch(() => '');
  const kept = new Response(text, { status: s, statusText: res.statusText, headers: res.headers });
  const why =
    s === 529
      ? 'is overloaded'
      : s === 429
        ? 'is rate limiting'
        : s >= 500
          ? 'is failing'
          : s === 401 || s === 403
            ? 'refused its key'
            : (s === 400 || s === 402) && CREDIT.test(text)
              ? 'is out of credit'
              : null;
  return why ? { why: `${why} (HTTP ${s})`, res: kept } : { why: '', res: kept };
}

function unreachableWhy(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `did not answer within ${Math.round(timeoutMs / 100) / 10} s`;
  const cause = (err as Error).cause as { code?: string } | undefined;
  if (cause?.code === 'ECONNREFUSED') return 'refused the connection';
  return `could not be reached (${cause?.code ?? (err as Error).message})`;
}

export function createFailover(deps: FailoverDeps) {
  const { logger, timeoutMs } = deps;
  const fetchFn = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const upstreams: (Fallback & { primary?: true })[] = [
    { url: deps.primary, keyEnv: null, key: null, model: null, primary: true },
    ...deps.fallbacks,
  ];
  let active = 0;
  let since: string | null = null;
  let why: string | null = null;
  // Chats told of the current switch.
  let told = new Set<string>();
  // The primary's request headers as the core last made them (its credential): the background check sends them.
  let primaryHeaders: Record<string, string> | null = null;
  let lastModel: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  /** The call as this upstream gets it: its own key (or none) instead of the primary's, its own model if set. */
  function requestFor(i: number, init: RequestInit, headers: Record<string, string>): RequestInit {
    const up = upstreams[i];
    let body = init.body;
    if (up.model && body instanceof Uint8Array) {
      try {
        body = JSON.stringify({ ...JSON.parse(Buffer.from(body).toString('utf8')), model: up.model });
      } catch {
        /* not JSON: sent as it came */
      }
    }
    if (up.primary) return { ...init, headers, body };
    const own = { ...headers };
    for (const h of AUTH_HEADERS) delete own[h];
    if (up.key) own['x-api-key'] = up.key;
    // The primary's OAuth beta flag means nothing with another key.
    const beta = own['anthropic-beta']
      ?.split(',')
      .filter((b) => b.trim() !== 'oauth-2025-04-20')
      .join(',');
    if (beta) own['anthropic-beta'] = beta;
    else delete own['anthropic-beta'];
    return { ...init, headers: own, body };
  }

  /** One upstream, bounded until its response headers come; the body then streams unbounded. */
  async function attempt(i: number, path: string, init: RequestInit): Promise<Tried> {
    const ctl = new AbortController();
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, timeoutMs);
    try {
      const res = await fetchFn(upstreams[i].url + path, { ...init, signal: ctl.signal });
      clearTimeout(timeout);
      const failed = await failure(res);
      if (!failed) return { res };
      return failed.why ? failed : { res: failed.res };
    } catch (err) {
      clearTimeout(timeout);
      return { why: unreachableWhy(err, timedOut, timeoutMs) };
    }
  }

  function switchTo(i: number, reason: string | null) {
    if (i === active) return;
    active = i;
    since = new Date(now()).toISOString();
    why = reason;
    told = new Set();
    logger.warn(
      { upstream: upstreams[i].url, why: reason },
      i ? 'model calls go to a fallback' : 'back on the primary',
    );
    schedule();
  }

  function schedule() {
    if (timer || stopped || active === 0) return;
    timer = setTimeout(() => void check(), deps.checkMs);
  }

  /** A one-token call to the primary with its own credential: does it answer again? Never a user's turn. */
  async function check() {
    if (!primaryHeaders || active === 0) {
      timer = null;
      return;
    }
    const body = JSON.stringify({
      model: lastModel ?? 'claude-haiku-4-5',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'ping' }],
    });
    const got = await attempt(0, '/v1/messages', { method: 'POST', headers: primaryHeaders, body });
    await got.res?.body?.cancel().catch(() => {});
    timer = null;
    if (stopped) return;
    if (!('why' in got)) switchTo(0, null);
    else schedule();
  }

  async function send(path: string, init: RequestInit, identity: Identity): Promise<Response> {
    const headers = Object.fromEntries(new Headers(init.headers));
    primaryHeaders = headers;
    let model: string | null = null;
    try {
      model = JSON.parse(Buffer.from(init.body as Uint8Array).toString('utf8'))?.model ?? null;
    } catch {
      /* count_tokens or a body that is not JSON */
    }
    if (typeof model === 'string') lastModel = model;
    const tried: { i: number; why: string; res?: Response }[] = [];
    // From the one in use on; the ones before it (the primary) only when all after it failed too.
    const order = upstreams.map((_, n) => (active + n) % upstreams.length);
    for (const i of order) {
      const got = await attempt(i, path, requestFor(i, init, headers));
      if (!('why' in got)) {
        if (tried.length) switchTo(i, i ? `${upstreams[tried[0].i].url} ${tried[0].why}` : null);
        if (i > 0 && !told.has(identity.chatJid)) {
          told.add(identity.chatJid);
          const by = upstreams[i].model ?? model ?? 'the same model';
          deps.tell(
            identity.chatJid,
            redact(
              `Answered by ${by} on ${upstreams[i].url}: ${why}. NanoClaw goes back to the primary once it answers again.`,
            ),
          );
        }
        return got.res;
      }
      logger.warn({ upstream: upstreams[i].url, why: got.why }, 'model upstream failed; trying the next');
      tried.push({ i, ...got });
    }
    // None answered: the primary's answer goes back, as it would have without fallbacks (the core names its setting).
    const first = tried.find((t) => t.i === 0)!;
    for (const t of tried) if (t !== first) await t.res?.body?.cancel().catch(() => {});
    if (first.res) return first.res;
    // Said in the core's words: "cannot reach <primary>: refused the connection".
    throw new Error(first.why);
  }

  return {
    send,
    state: (): FailoverState => ({
      active: upstreams[active].url,
      onPrimary: active === 0,
      since,
      why,
      fallbacks: deps.fallbacks.map((f) => ({ url: f.url, model: f.model, keyEnv: f.keyEnv })),
    }),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
