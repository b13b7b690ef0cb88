// The model proxy: the only way a sandbox reaches the model API. It forwards
// only the Messages API routes the CLI uses, judged on the path as the upstream
// would read it; adds the real credential here on the host (a refused one is
// answered from memory); and meters every call's tokens to the end of its stream.
import type http from 'node:http';
import type { Credential } from '../config/config.js';
import {
  classifyStatus,
  credentialName,
  errorDetail,
  refusalMemory,
  unreachable,
  type ModelOutcome,
  type ModelProblem,
} from './model-problem.js';
import type { EndpointHandlers, GatewayDeps, GatewayHooks, Identity } from './types.js';
import { json, readBody } from './wire.js';

export const MAX_MODEL_BODY = 32 * 1024 * 1024;

/** Headers the sandbox may not choose: hop-by-hop ones and any credential. */
const DROP_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'x-api-key',
  'authorization',
  'proxy-authorization',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'cookie',
]);

export interface ModelUsage {
  model: string | null;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** Collects usage as it is reported: SSE repeats and grows it, so the largest figure of each kind wins. */
function usageTally() {
  const u: ModelUsage = { model: null, input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  let found = false;
  const take = (x: any) => {
    if (!x || typeof x !== 'object') return;
    found = true;
    if (typeof x.input_tokens === 'number') u.input = Math.max(u.input, x.input_tokens);
    if (typeof x.output_tokens === 'number') u.output = Math.max(u.output, x.output_tokens);
    if (typeof x.cache_read_input_tokens === 'number') u.cacheRead = Math.max(u.cacheRead, x.cache_read_input_tokens);
    if (typeof x.cache_creation_input_tokens === 'number')
      u.cacheWrite = Math.max(u.cacheWrite, x.cache_creation_input_tokens);
  };
  const sseLine = (line: string) => {
    if (!line.startsWith('data:')) return;
    try {
      const ev = JSON.parse(line.slice(5));
      if (ev.type === 'message_start') {
        u.model = ev.message?.model ?? u.model;
        take(ev.message?.usage);
      }
      if (ev.type === 'message_delta') take(ev.usage);
    } catch {
      /* a malformed event is the upstream's problem, not ours */
    }
  };
  return { u, take, sseLine, result: () => (found ? u : null) };
}

/** Reads token usage out of a Messages API response, streamed (SSE) or not. */
export function parseUsage(body: string): ModelUsage | null {
  const tally = usageTally();
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      const m = JSON.parse(trimmed);
      tally.u.model = m.model ?? null;
      tally.take(m.usage);
    } catch {
      return null;
    }
  } else {
    for (const line of body.split('\n')) tally.sseLine(line);
  }
  return tally.result();
}

const MAX_SSE_LINE = 1024 * 1024;

/**
 * Meters a response while it streams: SSE line by line (the final usage comes
 * last, after any amount of output), a JSON body whole (up to the body limit).
 */
function usageMeter() {
  const tally = usageTally();
  let kind: 'unknown' | 'json' | 'sse' = 'unknown';
  let pending = '';
  const decoder = new TextDecoder();
  return {
    add(chunk: Uint8Array) {
      pending += decoder.decode(chunk, { stream: true });
      if (kind === 'unknown') {
        const start = pending.trimStart();
        if (!start) return;
        kind = start.startsWith('{') ? 'json' : 'sse';
      }
      if (kind === 'json') {
        if (pending.length > MAX_MODEL_BODY) pending = '';
        return;
      }
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) tally.sseLine(line);
      if (pending.length > MAX_SSE_LINE) pending = '';
    },
    result(): ModelUsage | null {
      pending += decoder.decode();
      if (kind === 'json') return parseUsage(pending);
      if (pending) tally.sseLine(pending);
      return tally.result();
    },
  };
}

/** The Messages API routes the Claude Code CLI calls; nothing else reaches the upstream with the credential. */
export const MODEL_ROUTES: readonly string[] = ['/v1/messages', '/v1/messages/count_tokens'];
/** Of those, the ones that spend tokens (count_tokens is free and reports no usage). */
const METERED_ROUTES = new Set(['/v1/messages']);

export type ModelRoute = { forward: string; metered: boolean } | { refuse: string };

/** Undoes percent-encoding, however many times it was applied; null when it does not decode. */
function fullyDecoded(text: string): string | null {
  let out = text;
  for (let i = 0; i < 8; i++) {
    let next: string;
    try {
      next = decodeURIComponent(out);
    } catch {
      return null;
    }
    if (next === out) return out;
    out = next;
  }
  return null;
}

/**
 * The path as the upstream would see it: decoded, backslashes as slashes, empty
 * and "." segments dropped, ".." applied. Null for a path that cannot be read
 * that way (bad escapes, control characters).
 */
export function canonicalPath(rawPath: string): string | null {
  const decoded = fullyDecoded(rawPath);
  if (decoded === null || /[\u0000-\u001f\u007f]/.test(decoded)) return null;
  const segments: string[] = [];
  for (const seg of decoded.replace(/\\/g, '/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  return '/' + segments.join('/');
}

/**
 * Decides a request aimed at the model API (its path, in any spelling, starts
 * with /v1): forward its canonical path (and query) or refuse it. Null for a
 * request that is not aimed at the model API.
 */
export function modelRoute(method: string, url: string): ModelRoute | null {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  const decoded = (fullyDecoded(rawPath) ?? rawPath).replace(/\\/g, '/');
  const canonical = canonicalPath(rawPath);
  const aimed = /^\/*v1(\/|$)/i.test(decoded) || (canonical !== null && /^\/v1(\/|$)/i.test(canonical));
  if (!aimed) return null;
  const shown = `${method} ${rawPath.slice(0, 200)}`;
  const allowed = `NanoClaw forwards only ${MODEL_ROUTES.map((r) => `POST ${r}`).join(' and ')} to the model API`;
  if (canonical === null || !MODEL_ROUTES.includes(canonical))
    return { refuse: `${allowed}; ${shown} is not one of them.` };
  if (method !== 'POST') return { refuse: `${allowed}; ${shown} uses another method.` };
  return { forward: canonical + query, metered: METERED_ROUTES.has(canonical) };
}

/** Waits until the response can take more, or is gone (the sandbox hung up). */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Answers a model call from a sandbox: `route` is what modelRoute decided for its path. */
export function createModelProxy(
  deps: Pick<GatewayDeps, 'upstream' | 'credential' | 'logger' | 'hooks' | 'refusalTtlMs'>,
) {
  const upstream = deps.upstream.replace(/\/+$/, '');
  const refusals = refusalMemory(deps.refusalTtlMs);

  /** Tells every plugin that listens; one that throws is logged and stops no other. */
  function tell(name: string, call: (h: GatewayHooks) => void): void {
    for (const h of deps.hooks) {
      try {
        call(h);
      } catch (err) {
        deps.logger.error({ err, hook: name }, 'gateway hook failed');
      }
    }
  }

  /** An error answer is small: read it whole, say what it means, and pass it on as it came. */
  async function relayError(
    upstreamRes: Response,
    cred: Credential,
    res: http.ServerResponse,
    report: (o: ModelOutcome) => void,
  ): Promise<void> {
    let text = '';
    try {
      text = await upstreamRes.text();
    } catch {
      /* the status is enough */
    }
    const problem: ModelProblem | null = classifyStatus(upstreamRes.status, errorDetail(text), cred.kind);
    if (problem) {
      deps.logger.warn(
        { status: upstreamRes.status, credential: credentialName(cred.kind), problem: problem.message },
        'model call failed',
      );
      if (problem.kind === 'auth') refusals.remember(cred, upstreamRes.status, text, problem);
      report({ ok: false, problem });
    }
    const out: Record<string, string> = {};
    upstreamRes.headers.forEach((v, k) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
    });
    // The SDK inside honours this: a refused credential is not worth its retries.
    if (problem?.kind === 'auth') out['x-should-retry'] = 'false';
    res.writeHead(upstreamRes.status, out);
    res.end(text);
  }

  return async function proxyModel(
    identity: Identity,
    handlers: EndpointHandlers,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: { forward: string; metered: boolean },
  ): Promise<void> {
    const body = await readBody(req, MAX_MODEL_BODY);
    if (!body)
      return json(res, 413, {
        type: 'error',
        error: { type: 'request_too_large', message: 'Request body over 32 MB.' },
      });
    const report = (outcome: ModelOutcome) => {
      handlers.modelCall?.(outcome);
      tell('onModelCall', (h) => h.onModelCall?.(identity, outcome));
    };
    const refuse = (message: string, kind: Credential['kind'] | null) => {
      const problem = classifyStatus(401, message, kind)!;
      report({ ok: false, problem });
      const data = JSON.stringify({ type: 'error', error: { type: 'authentication_error', message } });
      res.writeHead(401, { 'content-type': 'application/json', 'x-should-retry': 'false' });
      res.end(data);
    };
    let cred: Credential | null;
    try {
      cred = await deps.credential();
    } catch (err) {
      return refuse((err as Error).message, 'oauth');
    }
    if (!cred)
      return refuse(
        'NanoClaw has no Anthropic credential: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN in .env and restart.',
        null,
      );
    // The upstream already refused this credential: it would again, so answer now.
    const known = refusals.recall(cred);
    if (known) {
      report({ ok: false, problem: known.problem });
      res.writeHead(known.status, { 'content-type': 'application/json', 'x-should-retry': 'false' });
      return void res.end(known.body);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (!DROP_HEADERS.has(k.toLowerCase()) && typeof v === 'string') headers[k] = v;
    }
    if (cred.kind === 'api-key') headers['x-api-key'] = cred.value;
    else {
      headers['authorization'] = `Bearer ${cred.value}`;
      headers['anthropic-beta'] = [headers['anthropic-beta'], 'oauth-2025-04-20'].filter(Boolean).join(',');
    }
    const target = upstream + route.forward;
    let upstreamRes: Response;
    try {
      upstreamRes = await fetch(target, {
        method: req.method,
        headers,
        body: ['GET', 'HEAD'].includes(req.method ?? '') ? undefined : new Uint8Array(body),
      });
    } catch (err) {
      const problem = unreachable(upstream, err as Error);
      deps.logger.warn({ err: (err as Error).message, group: identity.groupFolder }, 'model upstream unreachable');
      report({ ok: false, problem });
      return json(res, 502, { type: 'error', error: { type: 'api_error', message: problem.message } });
    }
    if (upstreamRes.status >= 400) return relayError(upstreamRes, cred, res, report);
    report({ ok: true });
    const outHeaders: Record<string, string> = {};
    upstreamRes.headers.forEach((v, k) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) outHeaders[k] = v;
    });
    res.writeHead(upstreamRes.status, outHeaders);
    // Read the whole response even when the sandbox hangs up early: the tokens are spent either way.
    const meter = usageMeter();
    try {
      if (upstreamRes.body) {
        for await (const chunk of upstreamRes.body as any as AsyncIterable<Uint8Array>) {
          if (route.metered) meter.add(chunk);
          if (!res.destroyed && !res.write(Buffer.from(chunk))) await drained(res);
        }
      }
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'model stream broke');
    }
    res.end();
    const usage = route.metered ? meter.result() : null;
    if (usage) {
      const u = {
        model: usage.model,
        inputTokens: usage.input,
        outputTokens: usage.output,
        cacheReadTokens: usage.cacheRead,
        cacheWriteTokens: usage.cacheWrite,
      };
      const record = {
        ...u,
        groupFolder: identity.groupFolder,
        sessionId: handlers.sessionId(),
        taskId: identity.taskId,
      };
      tell('onUsage', (h) => h.onUsage?.(record));
      handlers.usage?.(u);
    }
  };
}
