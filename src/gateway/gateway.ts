// The gateway: the only door out of a sandbox. Each live sandbox gets its own
// unix socket; whatever arrives on it is, by construction, from that sandbox's
// group — a payload can claim anything, the socket cannot lie. Behind it:
//   /v1/messages    the model proxy (real credential added here, usage metered);
//                   only the Messages API routes the CLI uses (MODEL_ROUTES)
//   /runner/*       the runner's turn protocol (start, next, event, settle)
//   /tools/<name>   the nanoclaw tools, authorized for this group
//   CONNECT, http://…  the egress proxy (HTTPS_PROXY inside), by the group's policy
// Where a sandbox cannot share a socket (a VM), the endpoint is TCP instead, and
// each connection must first present that sandbox's secret.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Credential } from '../config/config.js';
import { egressRules, isPublicAddress, ownPorts, type EgressRules, type OwnPorts, type Resolver } from './egress/policy.js';
import { handleAbsoluteUri, handleConnect, type EgressEvent } from './egress/proxy.js';
import type { Logger } from '../logger.js';
import {
  classifyStatus,
  credentialName,
  errorDetail,
  refusalMemory,
  unreachable,
  type ModelOutcome,
  type ModelProblem,
} from './model-health.js';
import type { UsageRecord } from '../store/usage.js';
import type { TurnContext } from '../conversation/turn.js';
import type { NextAnswer, RunnerEvent, StartInfo, ToolAnswer } from '../../runner/protocol.js';

const MAX_MODEL_BODY = 32 * 1024 * 1024;
const MAX_RPC_BODY = 1024 * 1024;

export interface Identity {
  groupFolder: string;
  chatJid: string;
  isMain: boolean;
  taskId: string | null;
  /** Who started the turn in progress, set by the host when the turn begins; none between turns. */
  turn?: TurnContext;
}

/** What the live agent behind one endpoint answers. */
export interface EndpointHandlers {
  start(): StartInfo;
  next(signal: AbortSignal): Promise<NextAnswer>;
  event(e: RunnerEvent): void;
  tool(name: string, args: unknown): Promise<ToolAnswer>;
  /** Current session, for metering. */
  sessionId(): string | null;
  /** Usage of each model call, as the upstream reported it. */
  usage?(u: Omit<UsageRecord, 'groupFolder' | 'sessionId' | 'taskId'>): void;
  /** What a model call's answer says about the model API (a refused credential, an overloaded upstream, or fine). */
  modelCall?(outcome: ModelOutcome): void;
  /** A tool call or turn ended: staged host folders are settled with the owner; answers what to tell the agent. */
  settle?(): Promise<string | null>;
}

export interface GatewayDeps {
  upstream: string;
  /** May refresh (OAuth) first; throws with a message for the user when there is no usable credential. */
  credential: () => Credential | null | Promise<Credential | null>;
  recordUsage: (u: UsageRecord) => void;
  logger: Logger;
  /** Each destination the egress proxy was asked for (besides the log). */
  onEgress?: (e: EgressEvent) => void;
  /** DNS for the egress policy (tests use a fake). */
  resolve?: Resolver;
  /** The same, for the host (status, notices). */
  onModelCall?: (identity: Identity, outcome: ModelOutcome) => void;
  /** How long a refused credential is answered from memory (default 5 min). */
  refusalTtlMs?: number;
  /** The owner's "ask me first" decisions, made on the host for the calling group (src/approvals/). */
  approvals?: GatewayApprovals;
  /** The host's own ports (the host adds its API's); the gateway adds its TCP endpoints. Default: a set of its own. */
  ownPorts?: OwnPorts;
}

export interface GatewayApprovals {
  egress(identity: Identity, host: string, port: number): Promise<{ approved: boolean; message: string }>;
  /** A built-in tool the runner is about to run (Bash, Write, ...): the host classifies it, the runner only obeys. */
  tool(identity: Identity, toolName: string, input: unknown): Promise<{ approved: boolean; message: string }>;
  /** The proxy refused the owner's own machine or network without asking: the owner is told, plainly. */
  ownNetwork?(identity: Identity, host: string, port: number, reason: string): void;
}

export interface EndpointOptions {
  /**
   * The group's egress policy; default: the model API plus the web by name. A
   * function is asked again for each connection and request, so a policy
   * changed while the sandbox lives applies to its next connection.
   */
  egress?: EgressRules | (() => EgressRules);
}

export interface Endpoint {
  socketPath: string;
  /** For TCP endpoints: where to connect (tcp://host:port) and the secret to present. */
  address?: string;
  secret?: string;
  close(): Promise<void>;
}

/** The first line of every connection to a TCP endpoint: `NANOCLAW <secret>\n`. */
export const TCP_PREAMBLE = 'NANOCLAW ';
const PREAMBLE_MAX = 200;

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

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

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
    if (typeof x.cache_creation_input_tokens === 'number') u.cacheWrite = Math.max(u.cacheWrite, x.cache_creation_input_tokens);
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
  if (canonical === null || !MODEL_ROUTES.includes(canonical)) return { refuse: `${allowed}; ${shown} is not one of them.` };
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

export function createGateway(deps: GatewayDeps) {
  const upstream = deps.upstream.replace(/\/+$/, '');
  const refusals = refusalMemory(deps.refusalTtlMs);
  const own = deps.ownPorts ?? ownPorts();
  // A model server on this machine is the host's too: reached through the proxy it would skip the metering.
  const up = URL.canParse(upstream) ? new URL(upstream) : null;
  const upHost = up?.hostname.replace(/^\[|\]$/g, '') ?? '';
  if (up && (upHost === 'localhost' || (net.isIP(upHost) !== 0 && !isPublicAddress(upHost))))
    own.ports.add(Number(up.port) || (up.protocol === 'https:' ? 443 : 80));

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

  async function proxyModel(
    identity: Identity,
    handlers: EndpointHandlers,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: { forward: string; metered: boolean },
  ): Promise<void> {
    const body = await readBody(req, MAX_MODEL_BODY);
    if (!body) return json(res, 413, { type: 'error', error: { type: 'request_too_large', message: 'Request body over 32 MB.' } });
    const report = (outcome: ModelOutcome) => {
      handlers.modelCall?.(outcome);
      deps.onModelCall?.(identity, outcome);
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
      return refuse('NanoClaw has no Anthropic credential: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN in .env and restart.', null);
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
      deps.recordUsage({ ...u, groupFolder: identity.groupFolder, sessionId: handlers.sessionId(), taskId: identity.taskId });
      handlers.usage?.(u);
    }
  }

  async function handle(
    identity: Identity,
    handlers: EndpointHandlers,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    egress: () => EgressRules,
  ): Promise<void> {
    const url = req.url ?? '/';
    if (/^[a-z]+:\/\//i.test(url)) return handleAbsoluteUri(proxyDeps(identity, egress()), req, res);
    const model = modelRoute(req.method ?? 'GET', url);
    if (model && 'refuse' in model) {
      deps.logger.warn({ group: identity.groupFolder, method: req.method, path: url.slice(0, 200) }, 'model route refused');
      return json(res, 403, { type: 'error', error: { type: 'permission_error', message: model.refuse } });
    }
    if (model) return proxyModel(identity, handlers, req, res, model);
    if (req.method === 'GET' && url === '/runner/start') return json(res, 200, handlers.start());
    if (req.method === 'GET' && url === '/runner/next') {
      const ac = new AbortController();
      res.on('close', () => ac.abort());
      const answer = await handlers.next(ac.signal);
      return json(res, 200, answer);
    }
    if (req.method !== 'POST') return json(res, 404, { error: `No such gateway route: ${req.method} ${url}` });
    const raw = await readBody(req, MAX_RPC_BODY);
    if (!raw) return json(res, 413, { ok: false, error: 'Call body over 1 MB.' });
    let body: unknown;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
    } catch {
      return json(res, 400, { ok: false, error: 'Call body is not valid JSON.' });
    }
    if (url === '/runner/event') {
      if (!body || typeof body !== 'object' || typeof (body as any).type !== 'string')
        return json(res, 400, { ok: false, error: 'Event needs a type.' });
      handlers.event(body as RunnerEvent);
      return json(res, 200, { ok: true });
    }
    if (url === '/approvals/tool') {
      const b = body as { tool_name?: unknown; input?: unknown };
      if (!b || typeof b.tool_name !== 'string') return json(res, 400, { ok: false, error: 'An approval check needs tool_name.' });
      const outcome = deps.approvals ? await deps.approvals.tool(identity, b.tool_name, b.input) : { approved: true, message: 'Allowed.' };
      return json(res, 200, { ok: true, ...outcome });
    }
    if (url === '/runner/settle') return json(res, 200, { ok: true, message: (await handlers.settle?.()) ?? null });
    const tool = /^\/tools\/([a-z_]{1,40})$/.exec(url);
    if (tool) return json(res, 200, await handlers.tool(tool[1], body));
    return json(res, 404, { error: `No such gateway route: POST ${url}` });
  }

  function proxyDeps(identity: Identity, rules: EgressRules) {
    return {
      groupFolder: identity.groupFolder,
      rules,
      resolve: deps.resolve,
      own,
      ask: deps.approvals ? (host: string, port: number) => deps.approvals!.egress(identity, host, port) : undefined,
      ownNetwork: (host: string, port: number, reason: string) => deps.approvals?.ownNetwork?.(identity, host, port, reason),
      onEvent: (e: EgressEvent) => {
        deps.logger.info(
          { group: e.groupFolder, method: e.method, destination: e.destination, allowed: e.allowed, reason: e.reason },
          'egress',
        );
        deps.onEgress?.(e);
      },
    };
  }

  /** One sandbox's HTTP server: every route above, for this identity only. */
  function endpointServer(identity: Identity, handlers: EndpointHandlers, opts: EndpointOptions): http.Server {
    const given = opts.egress ?? egressRules({});
    const rules = typeof given === 'function' ? given : () => given;
    const server = http.createServer((req, res) => {
      handle(identity, handlers, req, res, rules).catch((err) => {
        deps.logger.error({ err, group: identity.groupFolder }, 'gateway call failed');
        json(res, 500, { ok: false, error: 'The host failed to handle this call; see logs/nanoclaw.log.' });
      });
    });
    server.on('connect', (req, socket, head) => {
      handleConnect(proxyDeps(identity, rules()), req, socket, head).catch((err) => {
        deps.logger.error({ err, group: identity.groupFolder }, 'egress tunnel failed');
        socket.destroy();
      });
    });
    server.keepAliveTimeout = 60_000;
    return server;
  }

  return {
    async openEndpoint(socketPath: string, identity: Identity, handlers: EndpointHandlers, opts: EndpointOptions = {}): Promise<Endpoint> {
      try {
        fs.unlinkSync(socketPath);
      } catch {
        /* not there */
      }
      const server = endpointServer(identity, handlers, opts);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, resolve);
      });
      // The sandbox user is not the host user; the socket is its only door.
      fs.chmodSync(socketPath, 0o666);
      return {
        socketPath,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => {
              try {
                fs.unlinkSync(socketPath);
              } catch {
                /* gone */
              }
              resolve();
            });
          }),
      };
    },

    /**
     * A TCP endpoint for sandboxes that cannot share a unix socket (VMs). It
     * listens on `host` (loopback unless the runtime needs another address), and
     * a connection counts only after it presents this sandbox's secret.
     */
    async openTcpEndpoint(host: string, identity: Identity, handlers: EndpointHandlers, opts: EndpointOptions = {}): Promise<Endpoint> {
      const secret = crypto.randomBytes(32).toString('hex');
      const expected = Buffer.from(TCP_PREAMBLE + secret);
      const server = endpointServer(identity, handlers, opts);
      const sockets = new Set<net.Socket>();
      const listener = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => socket.destroy());
        let buf = Buffer.alloc(0);
        const timer = setTimeout(() => socket.destroy(), 5_000);
        const onData = (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk]);
          const nl = buf.indexOf(0x0a);
          if (nl < 0) {
            if (buf.length > PREAMBLE_MAX) socket.destroy();
            return;
          }
          socket.off('data', onData);
          clearTimeout(timer);
          const line = buf.subarray(0, nl);
          const ok = line.length === expected.length && crypto.timingSafeEqual(line, expected);
          if (!ok) {
            deps.logger.warn(
              { group: identity.groupFolder, from: socket.remoteAddress },
              'gateway connection without the sandbox secret refused',
            );
            socket.end(
              'HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nThis endpoint needs the sandbox secret.\n',
            );
            return;
          }
          const rest = buf.subarray(nl + 1);
          socket.pause();
          if (rest.length) socket.unshift(rest);
          server.emit('connection', socket);
          socket.resume();
        };
        socket.on('data', onData);
      });
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(0, host, resolve);
      });
      const port = (listener.address() as net.AddressInfo).port;
      own.ports.add(port);
      return {
        socketPath: '',
        address: `tcp://${host}:${port}`,
        secret,
        close: () =>
          new Promise<void>((resolve) => {
            for (const s of sockets) s.destroy();
            server.closeAllConnections();
            listener.close(() => {
              own.ports.delete(port);
              resolve();
            });
          }),
      };
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
