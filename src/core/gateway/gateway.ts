// The gateway: the only door out of a sandbox. Each live sandbox gets its own
// unix socket; whatever arrives on it is, by construction, from that sandbox's
// group — a payload can claim anything, the socket cannot lie. Behind it:
//   /v1/messages    the model proxy (real credential added here, usage metered);
//                   only the Messages API routes the CLI uses (MODEL_ROUTES)
//   /runner/*       the runner's turn protocol (start, next, event, settle)
//   /tools/<name>   the nanoclaw tools, authorized for this group
//   CONNECT, http://…  the egress proxy (HTTPS_PROXY inside), by the group's policy
// Where a sandbox cannot share a socket (a VM), the endpoint is TCP instead, and
// each connection must first present that sandbox's secret. One concern a file:
// model-proxy.ts, egress/, endpoint.ts (sockets), types.ts; this file routes.
import http from 'node:http';
import net from 'node:net';
import { egressRules, isPublicAddress, ownPorts, type EgressRules } from '../../plugins/egress/policy.js';
import { handleAbsoluteUri, handleConnect, type EgressEvent } from '../../plugins/egress/proxy.js';
import { listenOnSocket, listenOnTcp } from './endpoint.js';
import { createModelProxy, modelRoute } from './model-proxy.js';
import type { EndpointHandlers, EndpointOptions, GatewayDeps, Identity } from './types.js';
import { json, readBody } from './wire.js';
import type { RunnerEvent } from '../../../runner/protocol.js';

export type * from './types.js';
export { TCP_PREAMBLE } from './endpoint.js';

const MAX_RPC_BODY = 1024 * 1024;

export function createGateway(deps: GatewayDeps) {
  const upstream = deps.upstream.replace(/\/+$/, '');
  const proxyModel = createModelProxy(deps);
  const own = deps.ownPorts ?? ownPorts();
  // A model server on this machine is the host's too: reached through the proxy it would skip the metering.
  const up = URL.canParse(upstream) ? new URL(upstream) : null;
  const upHost = up?.hostname.replace(/^\[|\]$/g, '') ?? '';
  if (up && (upHost === 'localhost' || (net.isIP(upHost) !== 0 && !isPublicAddress(upHost))))
    own.ports.add(Number(up.port) || (up.protocol === 'https:' ? 443 : 80));

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
      deps.logger.warn(
        { group: identity.groupFolder, method: req.method, path: url.slice(0, 200) },
        'model route refused',
      );
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
      if (!b || typeof b.tool_name !== 'string')
        return json(res, 400, { ok: false, error: 'An approval check needs tool_name.' });
      const outcome = deps.approvals
        ? await deps.approvals.tool(identity, b.tool_name, b.input)
        : { approved: true, message: 'Allowed.' };
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
      ownNetwork: (host: string, port: number, reason: string) =>
        deps.approvals?.ownNetwork?.(identity, host, port, reason),
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
    openEndpoint: (socketPath: string, identity: Identity, handlers: EndpointHandlers, opts: EndpointOptions = {}) =>
      listenOnSocket(endpointServer(identity, handlers, opts), socketPath),
    openTcpEndpoint: (host: string, identity: Identity, handlers: EndpointHandlers, opts: EndpointOptions = {}) =>
      listenOnTcp(endpointServer(identity, handlers, opts), host, { identity, logger: deps.logger, own }),
  };
}

export type Gateway = ReturnType<typeof createGateway>;
