// The only door out of a sandbox. Each sandbox has its own endpoint: what arrives there is its group's, whatever a
// payload claims. A target is judged raw, before URL parsing could resolve "..", "//" or %-escapes (or refuse a
// backslash): CONNECT and http://… are a network plugin's or refused; /v1… in any spelling is the model API's
// (modelRoute); anything else must be canonical.
import fs from 'node:fs';
import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { GatewayEndpoint, SandboxRuntime } from '../types.js';
import { modelApi, modelRoute } from './model-proxy.js';
import { runnerApi } from './runner.js';
import type { EndpointHandlers, GatewayDeps, GatewayEnv, Identity } from './types.js';

export type * from './types.js';

const NO_NETWORK = 'this sandbox has no network besides the model API (no network plugin is installed)';
const FAILED = { ok: false, error: 'The host failed to handle this call; see logs/nanoclaw.log.' };
const noRoute = (method: string, url: string) => ({ error: `No such gateway route: ${method} ${url}` });

const unlink = (p: string) => {
  try {
    fs.unlinkSync(p);
  } catch {
    /* not there */
  }
};

async function listenOnSocket(server: http.Server, socketPath: string): Promise<GatewayEndpoint> {
  unlink(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  // The sandbox user is not the host user; the socket is its only door.
  fs.chmodSync(socketPath, 0o666);
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        unlink(socketPath);
        resolve();
      });
    });
  return { socketPath, close };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }).end(data);
}

export function createGateway(deps: GatewayDeps) {
  const { logger } = deps;
  const network = deps.hooks.find((h) => h.network)?.network;
  const app = new Hono<GatewayEnv>()
    .route('/', modelApi(deps))
    .route('/', runnerApi(deps))
    .notFound((c) => c.json(noRoute(c.req.method, c.req.path), 404))
    .onError((err, c) => {
      logger.error({ err, group: c.env.identity.groupFolder }, 'gateway call failed');
      return c.json(FAILED, 500);
    });
  for (const h of deps.hooks) h.routes?.(app);

  /** On the runtime's own endpoint if it brings one (a VM's TCP port), else on a unix socket at `socketPath`. */
  function openEndpoint(
    socketPath: string,
    identity: Identity,
    handlers: EndpointHandlers,
    runtime?: Pick<SandboxRuntime, 'openEndpoint'>,
  ) {
    const group = identity.groupFolder;
    // Logged as the egress plugin logs its own; says why it was refused.
    const noNetwork = (method: string, target: string) => {
      const destination = target.slice(0, 200);
      logger.info({ group, method, destination, allowed: false, reason: NO_NETWORK }, 'egress');
      return `NanoClaw refused ${destination}: ${NO_NETWORK}.\n`;
    };
    const routes = getRequestListener((req, env) => app.fetch(req, { ...env, identity, handlers }));
    const server = http.createServer((req, res) => {
      const { method = 'GET', url = '/' } = req;
      if (/^[a-z]+:\/\//i.test(url)) {
        if (network)
          return void network.request(identity, req, res).catch((err) => {
            logger.error({ err, group }, 'gateway call failed');
            json(res, 500, FAILED);
          });
        res.writeHead(403, { 'content-type': 'text/plain', 'x-nanoclaw-egress': 'refused' });
        return void res.end(noNetwork(method, url));
      }
      const model = modelRoute(method, url);
      if (model && 'refuse' in model) {
        logger.warn({ group, method, path: url.slice(0, 200) }, 'model route refused');
        return json(res, 403, { type: 'error', error: { type: 'permission_error', message: model.refuse } });
      }
      if (model) req.url = model.forward;
      // (Hono would answer HEAD as GET.)
      else if (method === 'HEAD' || !/^(\/[a-z_]+)+$/.test(url)) return json(res, 404, noRoute(method, url));
      // Who calls is the endpoint's to say, not the Host header's: a strange one must not fail the URL parser.
      req.headers.host = 'gateway';
      void routes(req, res);
    });
    server.on('connect', (req, socket, head) => {
      if (network)
        return void network.connect(identity, req, socket, head).catch((err) => {
          logger.error({ err, group }, 'egress tunnel failed');
          socket.destroy();
        });
      socket.on('error', () => socket.destroy());
      const body = noNetwork('CONNECT', req.url ?? '');
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-nanoclaw-egress: refused\r\n\r\n${body}`,
      );
    });
    server.keepAliveTimeout = 60_000;
    return (
      runtime?.openEndpoint?.(server, { group, logger, ownPorts: deps.ownPorts }) ?? listenOnSocket(server, socketPath)
    );
  }

  return { openEndpoint };
}

export type Gateway = ReturnType<typeof createGateway>;
