// The gateway's HTTP proxy: how a sandbox's HTTPS_PROXY traffic leaves the host,
// if the group's egress policy (policy.ts) allows its destination. CONNECT
// tunnels for https, absolute-URI requests for plain http. The proxy connects to
// the address the policy checked, never re-resolving the name, and never adds a
// credential: that only happens on the model route.
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  decideEgress,
  parseHostPort,
  withAnswer,
  type EgressDecision,
  type EgressRules,
  type OwnPorts,
  type Resolver,
} from './policy.js';

export interface EgressEvent {
  groupFolder: string;
  method: string;
  destination: string;
  allowed: boolean;
  reason?: string;
}

export interface ProxyDeps {
  groupFolder: string;
  /** The group's rules as its settings say now; null when the chat is no longer registered (nothing is reachable). */
  rules: EgressRules | null;
  resolve?: Resolver;
  onEvent(e: EgressEvent): void;
  /** The host's own ports and addresses, refused to every sandbox. */
  own?: OwnPorts;
  /** Holds a destination only the group's list refused while the owner is asked (approvals); none: refuse it. */
  ask?(host: string, port: number): Promise<{ approved: boolean; message: string }>;
  /** A destination that was not asked about because it is the owner's own machine or network. */
  ownNetwork?(host: string, port: number, reason: string): void;
}

/**
 * The policy's decision, or, for a destination only the group's list refused,
 * the owner's: the request waits for the answer, and a yes allows exactly that host:port.
 */
async function decide(deps: ProxyDeps, host: string, port: number): Promise<EgressDecision> {
  const rules = deps.rules;
  if (!rules) return { allow: false, host, port, reason: 'this chat is no longer registered' };
  const first = await decideEgress(rules, host, port, deps.resolve, deps.own);
  if (first.allow || !first.askable || !deps.ask) return settled(deps, first);
  // Ask only when a yes could let it through: never for the owner's own machine or network, or a name with no address.
  const ifYes = await decideEgress(withAnswer(rules, host, port), host, port, deps.resolve, deps.own);
  if (!ifYes.allow && ifYes.ownNetwork) return settled(deps, ifYes);
  if (!ifYes.allow)
    return { ...first, askable: false, reason: `${first.reason} (and ${ifYes.reason}, so the owner was not asked)` };
  const outcome = await deps.ask(host, port);
  if (!outcome.approved) return { allow: false, host, port, reason: `${first.reason}; ${outcome.message}` };
  // Decided again: the name is looked up again, and must still lead to a public address.
  return settled(deps, await decideEgress(withAnswer(rules, host, port), host, port, deps.resolve, deps.own));
}

/** A refusal because it is the owner's own machine or network is told to the owner, plainly (never as a request). */
function settled(deps: ProxyDeps, d: EgressDecision): EgressDecision {
  if (!d.allow && d.ownNetwork) deps.ownNetwork?.(d.host, d.port, d.reason);
  return d;
}

const CONNECT_TIMEOUT_MS = 15_000;
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function refusalText(d: Extract<EgressDecision, { allow: false }>): string {
  return `NanoClaw refused ${d.host}:${d.port}: ${d.reason}.\n`;
}

/** CONNECT host:port — an https tunnel, if the policy allows it. */
export async function handleConnect(
  deps: ProxyDeps,
  req: http.IncomingMessage,
  client: Duplex,
  head: Buffer,
): Promise<void> {
  client.on('error', () => client.destroy());
  const target = parseHostPort(req.url ?? '', 443);
  const destination = req.url ?? '';
  if (!target) {
    deps.onEvent({
      groupFolder: deps.groupFolder,
      method: 'CONNECT',
      destination,
      allowed: false,
      reason: 'not a host:port',
    });
    client.end(
      'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nCONNECT needs host:port.\n',
    );
    return;
  }
  const decision = await decide(deps, target.host, target.port);
  deps.onEvent({
    groupFolder: deps.groupFolder,
    method: 'CONNECT',
    destination: `${target.host}:${target.port}`,
    allowed: decision.allow,
    reason: decision.allow ? undefined : decision.reason,
  });
  if (!decision.allow) {
    const body = refusalText(decision);
    client.end(
      `HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-nanoclaw-egress: refused\r\n\r\n${body}`,
    );
    return;
  }
  const upstream = net.connect({ host: decision.address, port: decision.port });
  upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('connect timed out')));
  let established = false;
  upstream.once('connect', () => {
    established = true;
    upstream.setTimeout(0);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', (err) => {
    if (!established && !client.writableEnded) {
      client.end(
        `HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\n${target.host}:${target.port} could not be reached: ${err.message}\n`,
      );
    } else client.destroy();
  });
  client.on('close', () => upstream.destroy());
}

/** GET http://host/path through the proxy — plain http, if the policy allows it. */
export async function handleAbsoluteUri(
  deps: ProxyDeps,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    url = null as unknown as URL;
  }
  if (!url || url.protocol !== 'http:') {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('The proxy forwards http:// URLs; use CONNECT for https.\n');
    return;
  }
  const target = parseHostPort(url.host, 80);
  if (!target) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`Not a valid destination: ${url.host}\n`);
    return;
  }
  const decision = await decide(deps, target.host, target.port);
  deps.onEvent({
    groupFolder: deps.groupFolder,
    method: req.method ?? 'GET',
    destination: `${target.host}:${target.port}`,
    allowed: decision.allow,
    reason: decision.allow ? undefined : decision.reason,
  });
  if (!decision.allow) {
    res.writeHead(403, { 'content-type': 'text/plain', 'x-nanoclaw-egress': 'refused' });
    res.end(refusalText(decision));
    return;
  }
  const headers: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers))
    if (!HOP_BY_HOP.has(k.toLowerCase()) && v !== undefined) headers[k] = v;
  headers.host = url.host;
  const upstream = http.request(
    {
      host: decision.address,
      port: decision.port,
      method: req.method,
      path: url.pathname + url.search,
      headers,
      setHost: false,
      timeout: CONNECT_TIMEOUT_MS,
    },
    (up) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(up.headers))
        if (!HOP_BY_HOP.has(k.toLowerCase()) && v !== undefined) out[k] = v;
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
    },
  );
  upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
  upstream.on('error', (err) => {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`${url.host} could not be reached: ${err.message}\n`);
    } else res.destroy();
  });
  req.pipe(upstream);
}
