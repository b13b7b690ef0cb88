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
import { apiError, readBody } from './wire.js';

export const MAX_MODEL_BODY = 32 * 1024 * 1024;

/** Headers the sandbox may not choose: hop-by-hop ones and any credential. */
const DROP_HEADERS =
  /^(host|connection|content-length|x-api-key|authorization|proxy-authorization|keep-alive|transfer-encoding|upgrade|te|cookie)$/;
/** Upstream headers that describe its own framing, not the answer relayed. */
const FRAMING = ['content-length', 'content-encoding', 'transfer-encoding', 'connection'];

export interface ModelUsage {
  model: string | null;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

const USAGE_FIELDS = [
  ['input', 'input_tokens'],
  ['output', 'output_tokens'],
  ['cacheRead', 'cache_read_input_tokens'],
  ['cacheWrite', 'cache_creation_input_tokens'],
] as const;

/** Collects usage as it is reported: SSE repeats and grows it, so the largest figure of each kind wins. */
function usageTally() {
  const u: ModelUsage = { model: null, input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  let found = false;
  const take = (x: any) => {
    if (!x || typeof x !== 'object') return;
    found = true;
    for (const [k, f] of USAGE_FIELDS) if (typeof x[f] === 'number') u[k] = Math.max(u[k], x[f]);
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
  } else for (const line of body.split('\n')) tally.sseLine(line);
  return tally.result();
}

const MAX_SSE_LINE = 1024 * 1024;

/**
 * Meters a response while it streams: SSE line by line (the final usage comes
 * last, after any amount of output), a JSON body whole (up to the body limit).
 */
function usageMeter() {
  const tally = usageTally();
  let json: boolean | undefined;
  let pending = '';
  const decoder = new TextDecoder();
  return {
    add(chunk: Uint8Array) {
      pending += decoder.decode(chunk, { stream: true });
      if (json === undefined) {
        const start = pending.trimStart();
        if (!start) return;
        json = start.startsWith('{');
      }
      if (json) {
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
      if (json) return parseUsage(pending);
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
  try {
    for (let i = 0; i < 8; i++) {
      const next = decodeURIComponent(text);
      if (next === text) return text;
      text = next;
    }
  } catch {
    /* a bad escape */
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
    if (seg === '..') segments.pop();
    else if (seg !== '' && seg !== '.') segments.push(seg);
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
  const decoded = (fullyDecoded(rawPath) ?? rawPath).replace(/\\/g, '/');
  const canonical = canonicalPath(rawPath);
  const aimed = /^\/*v1(\/|$)/i.test(decoded) || (canonical !== null && /^\/v1(\/|$)/i.test(canonical));
  if (!aimed) return null;
  const refuse = (why: string) => ({
    refuse: `NanoClaw forwards only ${MODEL_ROUTES.map((r) => `POST ${r}`).join(' and ')} to the model API; ${method} ${rawPath.slice(0, 200)} ${why}.`,
  });
  if (canonical === null || !MODEL_ROUTES.includes(canonical)) return refuse('is not one of them');
  if (method !== 'POST') return refuse('uses another method');
  return { forward: canonical + (q < 0 ? '' : url.slice(q)), metered: METERED_ROUTES.has(canonical) };
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
  const { logger, hooks } = deps;
  const upstream = deps.upstream.replace(/\/+$/, '');
  const refusals = refusalMemory(deps.refusalTtlMs);

  /** Tells every plugin that listens; one that throws is logged and stops no other. */
  const tell = (hook: string, call: (h: GatewayHooks) => void) => {
    for (const h of hooks)
      try {
        call(h);
      } catch (err) {
        logger.error({ err, hook }, 'gateway hook failed');
      }
  };

  return async function proxyModel(
    identity: Identity,
    handlers: EndpointHandlers,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: { forward: string; metered: boolean },
  ): Promise<void> {
    const body = await readBody(req, MAX_MODEL_BODY);
    if (!body) return apiError(res, 413, 'request_too_large', 'Request body over 32 MB.');
    const report = (outcome: ModelOutcome) => {
      handlers.modelCall?.(outcome);
      tell('onModelCall', (h) => h.onModelCall?.(identity, outcome));
    };
    const failed = (problem: ModelProblem) => report({ ok: false, problem });
    // The SDK inside honours x-should-retry: a refused credential is not worth its retries.
    const refused = (status: number, data: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-should-retry': 'false' });
      res.end(data);
    };
    const refuse = (message: string, kind: Credential['kind'] | null) => {
      failed(classifyStatus(401, message, kind)!);
      refused(401, JSON.stringify({ type: 'error', error: { type: 'authentication_error', message } }));
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
      failed(known.problem);
      return refused(known.status, known.body);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (!DROP_HEADERS.test(k.toLowerCase()) && typeof v === 'string') headers[k] = v;
    if (cred.kind === 'api-key') headers['x-api-key'] = cred.value;
    else {
      headers.authorization = `Bearer ${cred.value}`;
      headers['anthropic-beta'] = [headers['anthropic-beta'], 'oauth-2025-04-20'].filter(Boolean).join(',');
    }
    let up: Response;
    try {
      up = await fetch(upstream + route.forward, { method: req.method, headers, body: new Uint8Array(body) });
    } catch (err) {
      const problem = unreachable(upstream, err as Error);
      logger.warn({ err: (err as Error).message, group: identity.groupFolder }, 'model upstream unreachable');
      failed(problem);
      return apiError(res, 502, 'api_error', problem.message);
    }
    const out = Object.fromEntries([...up.headers].filter(([k]) => !FRAMING.includes(k)));
    // An error answer is small: read it whole, say what it means, and pass it on as it came.
    if (up.status >= 400) {
      let text = '';
      try {
        text = await up.text();
      } catch {
        /* the status is enough */
      }
      const problem = classifyStatus(up.status, errorDetail(text), cred.kind);
      if (problem) {
        logger.warn(
          { status: up.status, credential: credentialName(cred.kind), problem: problem.message },
          'model call failed',
        );
        if (problem.kind === 'auth') {
          refusals.remember(cred, up.status, text, problem);
          out['x-should-retry'] = 'false';
        }
        failed(problem);
      }
      res.writeHead(up.status, out);
      return void res.end(text);
    }
    report({ ok: true });
    res.writeHead(up.status, out);
    // Read the whole response even when the sandbox hangs up early: the tokens are spent either way.
    const meter = usageMeter();
    try {
      if (up.body)
        for await (const chunk of up.body as any as AsyncIterable<Uint8Array>) {
          if (route.metered) meter.add(chunk);
          if (!res.destroyed && !res.write(Buffer.from(chunk))) await drained(res);
        }
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'model stream broke');
    }
    res.end();
    const usage = route.metered && meter.result();
    if (!usage) return;
    const u = {
      model: usage.model,
      inputTokens: usage.input,
      outputTokens: usage.output,
      cacheReadTokens: usage.cacheRead,
      cacheWriteTokens: usage.cacheWrite,
    };
    const r = { ...u, groupFolder: identity.groupFolder, sessionId: handlers.sessionId(), taskId: identity.taskId };
    tell('onUsage', (h) => h.onUsage?.(r));
    handlers.usage?.(u);
  };
}
