// The egress policy: which destinations a group's sandbox may reach through the
// gateway's HTTP proxy. The sandbox has no network of its own, so this is the
// whole of its outside world besides the model API (which the gateway reaches
// for it, with the credential added on the host).
//
//   none       nothing through the proxy; the model API still works
//   allowlist  only the group's egressAllowlist
//   open       any public host on any port
//   (unset)    the default: public hosts on ports 80 and 443 (what web fetch
//              needs), plus the group's egressAllowlist
//
// Everywhere: raw IP destinations, and names that resolve to loopback, private,
// link-local or other non-public addresses, are refused unless that exact IP is
// on the group's allowlist (its settings: dashboard, CLI, API). An owner's answer
// to a request ("yes", "always") only ever allows public addresses. So nothing
// reaches the host (127.0.0.1), the LAN or a cloud metadata endpoint by accident,
// by DNS trickery or by one "yes". The host's own ports (API, dashboard, gateway
// endpoints) are refused on every local address whatever the settings say.
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import type { SandboxSettings } from '../../core/types.js';

export type EgressPolicy = 'none' | 'allowlist' | 'open';

declare module '../../core/types.js' {
  interface SandboxSettings {
    egress?: EgressPolicy;
    egressAllowlist?: string[];
  }
}

export interface EgressRules {
  policy: EgressPolicy | 'default';
  /** The group's settings: the only list that may name a private or loopback address. */
  allowlist: string[];
  /** What the owner allowed by answering a request ("always"): public addresses only. */
  answered: string[];
}

/**
 * The ports the host itself listens on (local API and dashboard, TCP gateway
 * endpoints, a local model upstream), filled in where each server is opened,
 * and the host's own addresses. No sandbox reaches these, whatever anyone says.
 */
export interface OwnPorts {
  ports: Set<number>;
  /** Addresses of this machine's interfaces (besides loopback and "any"). */
  addresses(): string[];
}

/** The host's own ports (the set the core fills in), with this machine's addresses. */
export function ownPorts(ports: Set<number> = new Set()): OwnPorts {
  return {
    ports,
    addresses: () =>
      Object.values(os.networkInterfaces())
        .flat()
        .map((i) => i?.address ?? '')
        .filter(Boolean),
  };
}

/** A model server on this machine is the host's too: reached through the proxy it would skip the metering. */
export function localUpstreamPort(upstream: string): number | null {
  const up = URL.canParse(upstream) ? new URL(upstream) : null;
  const host = up?.hostname.replace(/^\[|\]$/g, '') ?? '';
  if (!up || !(host === 'localhost' || (net.isIP(host) !== 0 && !isPublicAddress(host)))) return null;
  return Number(up.port) || (up.protocol === 'https:' ? 443 : 80);
}

/** What the default policy allows besides the group's own list: the web, by name. */
export const DEFAULT_WEB_ALLOWLIST = ['*:443', '*:80'];

export type EgressDecision =
  | { allow: true; host: string; port: number; address: string }
  /** askable: only the group's list refused it, so the owner may allow it (approvals, kind network). */
  | { allow: false; host: string; port: number; reason: string; askable?: boolean; ownNetwork?: boolean };

export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) =>
  (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export function egressRules(settings: Pick<SandboxSettings, 'egress' | 'egressAllowlist' | 'approvals'>): EgressRules {
  // Destinations the owner answered "always" to count as listed, but never for a private address.
  const always = (settings.approvals?.allow ?? []).filter((r) => r.kind === 'network').map((r) => r.detail);
  return { policy: settings.egress ?? 'default', allowlist: [...(settings.egressAllowlist ?? [])], answered: always };
}

// Addresses that are never "the internet": loopback, private, link-local (cloud
// metadata), CGNAT, multicast, reserved, and their IPv6 counterparts.
const NON_PUBLIC = new net.BlockList();
for (const [a, p] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(a, p, 'ipv4');
}
for (const [a, p] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['64:ff9b::', 96],
  ['100::', 64],
] as const) {
  NON_PUBLIC.addSubnet(a, p, 'ipv6');
}

export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return isPublicAddress(mapped[1]);
    return !NON_PUBLIC.check(address, 'ipv6');
  }
  return !NON_PUBLIC.check(address, 'ipv4');
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addSubnet('0.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addAddress('::', 'ipv6');

const unmapped = (address: string) => address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').toLowerCase();

function isLoopback(address: string): boolean {
  const a = unmapped(address);
  const family = net.isIP(a);
  return family !== 0 && LOOPBACK.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/** Loopback, "any", or one of this machine's own addresses: connecting there reaches the host itself. */
function isOwnAddress(own: OwnPorts, address: string): boolean {
  const a = unmapped(address);
  return isLoopback(a) || own.addresses().some((x) => x.toLowerCase().replace(/%.*$/, '') === a);
}

/** The one rule for the host's own ports: refused on every local address, whatever the settings or answers. */
export function ownPortRefusal(own: OwnPorts | undefined, address: string, port: number): string | null {
  if (!own?.ports.has(port) || !isOwnAddress(own, address)) return null;
  return (
    `${address}:${port} is NanoClaw's own port on the owner's machine (its API, dashboard or gateway); ` +
    'no sandbox may reach it, whatever the settings or answers'
  );
}

/** What the agent and owner are told about a private address: it is the owner's own machine or network. */
export function ownNetworkText(host: string, port: number, address: string): string {
  const where = isLoopback(address) ? "the owner's own machine" : "the owner's own network";
  const named = host === address ? address : `${host} (${address})`;
  return (
    `${named} is ${where}, which an answer to a request can never allow; ` +
    `the owner can allow ${address}:${port} in this chat's settings (dashboard, CLI or API)`
  );
}

/** Splits "host:port", "[v6]:port" or "host" (with a default port). */
export function parseHostPort(target: string, defaultPort: number): { host: string; port: number } | null {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(target);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else {
    const i = target.lastIndexOf(':');
    if (i >= 0 && target.indexOf(':') === i) {
      host = target.slice(0, i);
      portText = target.slice(i + 1);
    } else if (i < 0) host = target;
    else return null; // a bare IPv6 address without brackets is ambiguous
  }
  const port = portText === undefined || portText === '' ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  host = host.toLowerCase().replace(/\.$/, '');
  if (!host || host.length > 253) return null;
  if (net.isIP(host) === 0 && !/^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/.test(host)) return null;
  return { host, port };
}

interface Pattern {
  host: string;
  port: number | '*' | 'web';
}

/** "example.com" (ports 80 and 443), "*.example.com:8443", "*:443", "127.0.0.1:8080", "[::1]:9000". */
export function parsePattern(text: string): Pattern | null {
  const t = text.trim().toLowerCase();
  if (!t) return null;
  const v6 = /^\[([0-9a-f:.]+)\](?::(\d+|\*))?$/.exec(t);
  let host: string;
  let port: string | undefined;
  if (v6) {
    host = v6[1];
    port = v6[2];
  } else {
    const parts = t.split(':');
    if (parts.length > 2) return null;
    [host, port] = parts;
  }
  if (!host) return null;
  if (port === undefined) return { host, port: 'web' };
  if (port === '*') return { host, port: '*' };
  const n = Number(port);
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? { host, port: n } : null;
}

function portMatches(p: Pattern, port: number): boolean {
  return p.port === '*' || p.port === port || (p.port === 'web' && (port === 80 || port === 443));
}

function hostMatches(p: Pattern, host: string): boolean {
  if (p.host === '*') return net.isIP(host) === 0; // a wildcard never covers raw IPs
  if (p.host.startsWith('*.')) {
    const base = p.host.slice(2);
    return net.isIP(host) === 0 && (host === base || host.endsWith('.' + base));
  }
  return p.host === host;
}

function patternsFor(rules: EgressRules): Pattern[] {
  const listed = [...rules.allowlist, ...rules.answered];
  const texts =
    rules.policy === 'open'
      ? ['*:*', ...listed]
      : rules.policy === 'allowlist'
        ? listed
        : [...DEFAULT_WEB_ALLOWLIST, ...listed];
  return texts.map(parsePattern).filter((p): p is Pattern => p !== null);
}

/** An exact IP entry on the group's own list (its settings): the only way to reach a non-public or raw address. */
function explicitlyListed(rules: EgressRules, address: string, port: number): boolean {
  return rules.allowlist
    .map(parsePattern)
    .some((p) => p !== null && p.host === address.toLowerCase() && portMatches(p, port));
}

/**
 * Decides one destination. Refusals happen before any connection or DNS lookup
 * where the name alone decides, so a refused destination sees no traffic.
 */
export async function decideEgress(
  rules: EgressRules,
  host: string,
  port: number,
  resolve: Resolver = systemResolver,
  own?: OwnPorts,
): Promise<EgressDecision> {
  const refuse = (reason: string, ownNetwork?: true): EgressDecision => ({
    allow: false,
    host,
    port,
    reason,
    ...(ownNetwork ? { ownNetwork } : {}),
  });
  const ownNetwork = (address: string) => refuse(ownNetworkText(host, port, address), true);
  if (rules.policy === 'none') return refuse('this group\'s network policy is "none": only the model API is reachable');
  const isIp = net.isIP(host) !== 0;
  if (isIp) {
    const mine = ownPortRefusal(own, host, port);
    if (mine) return refuse(mine, true);
    if (explicitlyListed(rules, host, port)) return { allow: true, host, port, address: host };
    if (!isPublicAddress(host)) return ownNetwork(host);
    return refuse(`raw IP destinations are refused unless ${host}:${port} is on this group's egress allowlist`);
  }
  const patterns = patternsFor(rules);
  if (!patterns.some((p) => hostMatches(p, host) && portMatches(p, port))) {
    return {
      ...refuse(
        `${host}:${port} is not allowed by this group's network policy (${rules.policy}); add it to the group's egressAllowlist to allow it`,
      ),
      askable: true,
    } as EgressDecision;
  }
  // "localhost" resolves by name; it is as private as 127.0.0.1 and needs the same explicit entry.
  let addresses: string[];
  try {
    addresses = host === 'localhost' ? ['127.0.0.1'] : await resolve(host);
  } catch (err) {
    return refuse(`${host} could not be resolved (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!addresses.length) return refuse(`${host} has no address`);
  for (const address of addresses) {
    const mine = ownPortRefusal(own, address, port);
    if (mine) return refuse(`${host} resolves to ${mine}`, true);
    if (isPublicAddress(address)) continue;
    const listed =
      explicitlyListed(rules, address, port) || (host === 'localhost' && explicitlyListed(rules, 'localhost', port));
    if (!listed) return ownNetwork(address);
  }
  return { allow: true, host, port, address: addresses[0] };
}

/** The rules as they would be after the owner's yes to exactly host:port (an answer, never a setting). */
export function withAnswer(rules: EgressRules, host: string, port: number): EgressRules {
  return { ...rules, answered: [...rules.answered, `${host}:${port}`] };
}
