// The gateway: the only door out of a sandbox. Each live sandbox gets its own
// unix socket; whatever arrives on it is, by construction, from that sandbox's
// group — a payload can claim anything, the socket cannot lie. Behind it:
//   /v1/messages    the model proxy (real credential added here, usage metered);
//                   only the Messages API routes the CLI uses (MODEL_ROUTES)
//   /runner/*       the runner's turn protocol (start, next, event, settle)
//   /approvals/tool the runner asks before a built-in tool (Bash, Write, Edit)
//   /tools/<name>   the nanoclaw tools, authorized for this group
//   CONNECT, http://…  the sandbox's network (HTTPS_PROXY inside): the first plugin
//                   hook that handles it (the egress plugin), or refused
// Where a sandbox cannot share a socket (a VM), the endpoint is TCP instead, and
// each connection must first present that sandbox's secret. One concern a file:
// model-proxy.ts, endpoint.ts (sockets), types.ts; this file routes.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { listenOnSocket, listenOnTcp } from './endpoint.js';
import { createModelProxy, modelRoute } from './model-proxy.js';
import type { EndpointHandlers, GatewayDeps, Identity } from './types.js';
import { apiError, json, readBody } from './wire.js';

export type * from './types.js';
export { TCP_PREAMBLE } from './endpoint.js';

const MAX_RPC_BODY = 1024 * 1024;

/** Without a plugin for the sandbox's network, only the model API is reachable. */
const NO_NETWORK = 'this sandbox has no network besides the model API (no network plugin is installed)';

export function createGateway(deps: GatewayDeps) {
  const { logger } = deps;
  const proxyModel = createModelProxy(deps);
  // The sandbox's network is one plugin's: the first that handles it.
  const network = deps.hooks.find((h) => h.network)?.network;

  /** Logs a proxy request no plugin handles (as the egress plugin logs its own) and answers why it was refused. */
  function noNetwork(identity: Identity, method: string, target: string): string {
    const destination = target.slice(0, 200);
    logger.info({ group: identity.groupFolder, method, destination, allowed: false, reason: NO_NETWORK }, 'egress');
    return `NanoClaw refused ${destination}: ${NO_NETWORK}.\n`;
  }

  async function handle(
    identity: Identity,
    handlers: EndpointHandlers,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const route = `${req.method} ${url}`;
    const no = (status: number, error: string) => json(res, status, { ok: false, error });
    if (/^[a-z]+:\/\//i.test(url)) {
      if (network) return network.request(identity, req, res);
      res.writeHead(403, { 'content-type': 'text/plain', 'x-nanoclaw-egress': 'refused' });
      return void res.end(noNetwork(identity, method, url));
    }
    const model = modelRoute(method, url);
    if (model && 'refuse' in model) {
      logger.warn({ group: identity.groupFolder, method: req.method, path: url.slice(0, 200) }, 'model route refused');
      return apiError(res, 403, 'permission_error', model.refuse);
    }
    if (model) return proxyModel(identity, handlers, req, res, model);
    if (route === 'GET /runner/start') return json(res, 200, handlers.start());
    if (route === 'GET /runner/next') {
      const ac = new AbortController();
      res.on('close', () => ac.abort());
      return json(res, 200, await handlers.next(ac.signal));
    }
    if (req.method !== 'POST') return json(res, 404, { error: `No such gateway route: ${route}` });
    const raw = await readBody(req, MAX_RPC_BODY);
    if (!raw) return no(413, 'Call body over 1 MB.');
    let body: any;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
    } catch {
      return no(400, 'Call body is not valid JSON.');
    }
    if (url === '/runner/event') {
      if (!body || typeof body !== 'object' || typeof body.type !== 'string') return no(400, 'Event needs a type.');
      handlers.event(body);
      return json(res, 200, { ok: true });
    }
    if (url === '/approvals/tool') {
      if (!body || typeof body.tool_name !== 'string') return no(400, 'An approval check needs tool_name.');
      return json(res, 200, { ok: true, ...(await deps.approver.runnerTool(identity, body.tool_name, body.input)) });
    }
    if (url === '/runner/settle') return json(res, 200, { ok: true, message: (await handlers.settle?.()) ?? null });
    const tool = /^\/tools\/([a-z_]{1,40})$/.exec(url);
    if (tool) return json(res, 200, await handlers.tool(tool[1], body));
    return json(res, 404, { error: `No such gateway route: ${route}` });
  }

  /** One sandbox's HTTP server: every route above, for this identity only. */
  function endpointServer(identity: Identity, handlers: EndpointHandlers): http.Server {
    const group = identity.groupFolder;
    const server = http.createServer((req, res) => {
      handle(identity, handlers, req, res).catch((err) => {
        logger.error({ err, group }, 'gateway call failed');
        json(res, 500, { ok: false, error: 'The host failed to handle this call; see logs/nanoclaw.log.' });
      });
    });
    server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (network)
        return void network.connect(identity, req, socket, head).catch((err) => {
          logger.error({ err, group }, 'egress tunnel failed');
          socket.destroy();
        });
      socket.on('error', () => socket.destroy());
      const body = noNetwork(identity, 'CONNECT', req.url ?? '');
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-nanoclaw-egress: refused\r\n\r\n${body}`,
      );
    });
    server.keepAliveTimeout = 60_000;
    return server;
  }

  return {
    openEndpoint: (socketPath: string, identity: Identity, handlers: EndpointHandlers) =>
      listenOnSocket(endpointServer(identity, handlers), socketPath),
    openTcpEndpoint: (host: string, identity: Identity, handlers: EndpointHandlers) =>
      listenOnTcp(endpointServer(identity, handlers), host, { identity, logger, own: deps.ownPorts }),
  };
}

export type Gateway = ReturnType<typeof createGateway>;
