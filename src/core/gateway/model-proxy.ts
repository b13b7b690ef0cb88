// A sandbox's only way to the model API: only the Messages routes the CLI uses, judged on the path as the upstream
// reads it; the credential added on the host; each answer's meaning and tokens told to the agent and the plugins.
import { Hono, type Context } from 'hono';
import { classifyStatus, credentialName, errorDetail, unreachable } from './model-problem.js';
import type { ModelOutcome, ModelProblem } from './model-problem.js';
import type { GatewayDeps, GatewayEnv, GatewayHooks } from './types.js';
import { readBody } from './wire.js';

const MAX_BODY = 32 * 1024 * 1024;
// Headers the sandbox may not choose (hop-by-hop ones and any credential), and the upstream's own framing.
const DROP =
  /^(host|connection|content-length|x-api-key|authorization|proxy-authorization|keep-alive|transfer-encoding|upgrade|te|cookie)$/;
const FRAMING = ['content-length', 'content-encoding', 'transfer-encoding', 'connection'];

/** Undoes percent-encoding applied up to 8 times; null when it does not decode. */
function fullyDecoded(text: string, times = 8): string | null {
  try {
    const next = decodeURIComponent(text);
    return next === text ? text : times > 1 ? fullyDecoded(next, times - 1) : null;
  } catch {
    return null;
  }
}

/** For a path that in any spelling starts with /v1: its target as the upstream reads it (query kept), or a refusal. */
export function modelRoute(method: string, url: string): { forward: string } | { refuse: string } | null {
  const path = url.split('?', 1)[0];
  const decoded = fullyDecoded(path);
  const spelled = (decoded ?? path).replace(/\\/g, '/');
  const segments: string[] = [];
  for (const seg of spelled.split('/'))
    if (seg === '..') segments.pop();
    else if (seg !== '' && seg !== '.') segments.push(seg);
  const canonical = decoded === null || /[\u0000-\u001f\u007f]/.test(decoded) ? null : '/' + segments.join('/');
  if (!/^\/*v1(\/|$)/i.test(spelled) && !/^\/v1(\/|$)/i.test(canonical ?? '')) return null;
  const refuse = (why: string) => ({
    refuse: `NanoClaw forwards only POST /v1/messages and POST /v1/messages/count_tokens to the model API; ${method} ${path.slice(0, 200)} ${why}.`,
  });
  if (canonical !== '/v1/messages' && canonical !== '/v1/messages/count_tokens') return refuse('is not one of them');
  return method === 'POST' ? { forward: canonical + url.slice(path.length) } : refuse('uses another method');
}

const USAGE = [
  ['inputTokens', 'input_tokens'],
  ['outputTokens', 'output_tokens'],
  ['cacheReadTokens', 'cache_read_input_tokens'],
  ['cacheWriteTokens', 'cache_creation_input_tokens'],
] as const;

/** SSE is metered line by line (usage grows as it repeats), JSON whole. */
function usageMeter() {
  const u = { model: null as string | null, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  let found = false;
  let json: boolean | undefined;
  let pending = '';
  const decoder = new TextDecoder();
  // A JSON answer is the message; a stream's message_start holds it, its message_delta the usage so far.
  const data = (text: string) => {
    try {
      const ev = JSON.parse(text);
      const m = ev?.type === 'message_start' ? ev.message : ev;
      u.model = m?.model ?? u.model;
      if (!m?.usage || typeof m.usage !== 'object') return;
      found = true;
      for (const [k, f] of USAGE) if (typeof m.usage[f] === 'number') u[k] = Math.max(u[k], m.usage[f]);
    } catch {
      /* the upstream's problem */
    }
  };
  const line = (text: string) => text.startsWith('data:') && data(text.slice(5));
  return {
    add(chunk: Uint8Array) {
      pending += decoder.decode(chunk, { stream: true });
      json ??= pending.trim() ? pending.trimStart()[0] === '{' : undefined;
      if (!json) {
        const lines = pending.split('\n');
        pending = lines.pop()!;
        lines.forEach(line);
      }
      if (pending.length > (json ? MAX_BODY : 1024 * 1024)) pending = '';
    },
    result() {
      pending += decoder.decode();
      if (json) data(pending);
      else line(pending);
      return found ? u : null;
    },
  };
}

// In the model API's own shape, for the SDK inside.
const apiError = (c: Context<GatewayEnv>, status: 401 | 413 | 502, type: string, message: string, headers = {}) =>
  c.json({ type: 'error', error: { type, message } }, status, headers);

export function modelApi(deps: GatewayDeps) {
  const { logger } = deps;
  const upstream = deps.upstream.replace(/\/+$/, '');
  // A refused credential is answered from here until it changes or 5 minutes pass (the provider may fix it).
  let refused: { value: string; until: number; body: string; problem: ModelProblem } | null = null;
  // A plugin that throws is logged and stops no other.
  const tell = (hook: string, call: (h: GatewayHooks) => void) => {
    for (const h of deps.hooks)
      try {
        call(h);
      } catch (err) {
        logger.error({ err, hook }, 'gateway hook failed');
      }
  };

  // gateway.ts rewrote the target with modelRoute.
  return new Hono<GatewayEnv>().post('/v1/*', async (c) => {
    const { identity, handlers, incoming } = c.env;
    const body = await readBody(incoming, MAX_BODY);
    if (!body) return apiError(c, 413, 'request_too_large', 'Request body over 32 MB.');
    const report = (outcome: ModelOutcome) => {
      handlers.modelCall?.(outcome);
      tell('onModelCall', (h) => h.onModelCall?.(identity, outcome));
    };
    const failed = (problem: ModelProblem) => report({ ok: false, problem });
    // The SDK inside honours x-should-retry: a refused credential is not worth its retries.
    const noRetry = { 'x-should-retry': 'false' };
    const cred = await Promise.resolve()
      .then(deps.credential)
      .catch((err: Error) => err);
    if (!cred || cred instanceof Error) {
      const message =
        cred?.message ??
        'NanoClaw has no Anthropic credential: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN in .env and restart.';
      failed(classifyStatus(401, message, cred && 'oauth')!);
      return apiError(c, 401, 'authentication_error', message, noRetry);
    }
    if (refused?.value === cred.value && Date.now() <= refused.until) {
      failed(refused.problem);
      return c.body(refused.body, refused.problem.status as 401, { 'content-type': 'application/json', ...noRetry });
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(incoming.headers)) if (!DROP.test(k) && typeof v === 'string') headers[k] = v;
    if (cred.kind === 'api-key') headers['x-api-key'] = cred.value;
    else {
      headers.authorization = `Bearer ${cred.value}`;
      headers['anthropic-beta'] = [headers['anthropic-beta'], 'oauth-2025-04-20'].filter(Boolean).join(',');
    }
    let up: Response;
    try {
      const init = { method: 'POST', headers, body: new Uint8Array(body) };
      const send = deps.hooks.find((h) => h.send)?.send;
      const answered = send ? send(incoming.url!, init, identity) : fetch(upstream + incoming.url, init);
      tell('onModelRequest', (h) => h.onModelRequest?.(identity, answered));
      up = await answered;
    } catch (err) {
      const problem = unreachable(upstream, err as Error);
      logger.warn({ err: (err as Error).message, group: identity.groupFolder }, 'model upstream unreachable');
      failed(problem);
      return apiError(c, 502, 'api_error', problem.message);
    }
    const out = Object.fromEntries([...up.headers].filter(([k]) => !FRAMING.includes(k)));
    // An error answer is small: read whole, classified, passed on as it came.
    if (up.status >= 400) {
      const text = await up.text().catch(() => '');
      const problem = classifyStatus(up.status, errorDetail(text), cred.kind);
      if (problem) {
        const credential = credentialName(cred.kind);
        logger.warn({ status: up.status, credential, problem: problem.message }, 'model call failed');
        if (problem.kind === 'auth') {
          refused = { value: cred.value, until: Date.now() + 5 * 60_000, body: text, problem };
          out['x-should-retry'] = 'false';
        }
        failed(problem);
      }
      return c.body(text, up.status as 400, out);
    }
    report({ ok: true });
    const meter = c.req.path === '/v1/messages' ? usageMeter() : null;
    let reader = up.body?.getReader();
    // Null at the end or where the stream broke, once the usage is told.
    const next = async () => {
      try {
        const r = await reader?.read();
        if (r?.value) {
          meter?.add(r.value);
          return r.value;
        }
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'model stream broke');
      }
      const usage = reader && meter?.result();
      reader = undefined;
      if (usage) {
        const { groupFolder, taskId } = identity;
        tell('onUsage', (h) => h.onUsage?.({ ...usage, groupFolder, sessionId: handlers.sessionId(), taskId }));
        handlers.usage?.(usage);
      }
      return null;
    };
    const stream = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        const chunk = await next();
        if (chunk) ctl.enqueue(chunk);
        else ctl.close();
      },
      // The sandbox hung up: read on, as the tokens are spent either way.
      async cancel() {
        while (await next());
      },
    });
    return c.body(stream, up.status as 200, out);
  });
}
