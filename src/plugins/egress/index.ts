// The egress plugin: a sandbox's network. The gateway hands it every proxy request
// (CONNECT for https, absolute URIs for plain http); it decides each one by the
// group's settings as they are stored now (policy.ts), asks the owner about a
// host only the group's list refused, and never lets a sandbox reach the host's
// own ports. Without this plugin a sandbox reaches nothing but the model API.
import type { Approver } from '../../core/ask.js';
import type { GatewayHooks, Identity } from '../../core/gateway/types.js';
import type { Logger } from '../../core/logger.js';
import type { Plugin } from '../../core/plugin.js';
import type { RegisteredGroup } from '../../core/types.js';
import { egressRules, localUpstreamPort, ownPorts, parsePattern, type OwnPorts, type Resolver } from './policy.js';
import { handleAbsoluteUri, handleConnect, type EgressEvent, type ProxyDeps } from './proxy.js';

export interface EgressDeps {
  /** The group as stored now: settings changed while a sandbox lives apply to its next connection. */
  groupOf(jid: string): RegisteredGroup | undefined;
  /** Asks the owner about a new host; tells the owner about a refused own-network address. */
  approver: Pick<Approver, 'check' | 'noteOwnNetwork'>;
  /** The host's own ports and addresses, refused to every sandbox. */
  own: OwnPorts;
  /** DNS for the policy (tests use a fake); default: the system's. */
  resolve?: Resolver;
  logger: Logger;
}

/** The gateway hook that carries a sandbox's network: by the endpoint's identity, never the payload. */
export function createEgress(deps: EgressDeps): Required<Pick<GatewayHooks, 'network'>> {
  function proxyDeps(identity: Identity): ProxyDeps {
    const group = deps.groupOf(identity.chatJid);
    return {
      groupFolder: identity.groupFolder,
      rules: group ? egressRules(group.sandbox) : null,
      resolve: deps.resolve,
      own: deps.own,
      ask: group
        ? (host, port) =>
            deps.approver.check(group, { kind: 'network', detail: `${host}:${port}`, what: `reach ${host}:${port}` })
        : undefined,
      ownNetwork: group ? (host, port) => deps.approver.noteOwnNetwork?.(group, `${host}:${port}`) : undefined,
      onEvent: (e: EgressEvent) =>
        deps.logger.info(
          { group: e.groupFolder, method: e.method, destination: e.destination, allowed: e.allowed, reason: e.reason },
          'egress',
        ),
    };
  }
  return {
    network: {
      connect: (identity, req, socket, head) => handleConnect(proxyDeps(identity), req, socket, head),
      request: (identity, req, res) => handleAbsoluteUri(proxyDeps(identity), req, res),
    },
  };
}

declare module '../../core/types.js' {
  interface ApprovalKinds {
    network: true;
  }
}

export const egress: Plugin = {
  name: 'egress',
  // A host outside the group's list is asked about.
  approvalKinds: { network: { mode: 'ask', words: 'reach a host outside its network allowlist' } },
  setup(core) {
    const upstreamPort = localUpstreamPort(core.config.anthropicBaseUrl);
    if (upstreamPort !== null) core.ownPorts.add(upstreamPort);
    return {
      gateway: createEgress({
        groupOf: (jid) => core.store.groups.get(jid),
        // Read at each call: whichever plugin answers for the owner is the one asked.
        approver: {
          check: (group, action) => core.approver.check(group, action),
          noteOwnNetwork: (group, target) => core.approver.noteOwnNetwork?.(group, target),
        },
        own: ownPorts(core.ownPorts),
        resolve: core.resolve,
        logger: core.logger,
      }),
      // A destination the policy could not read is refused when saved, not ignored when a sandbox connects.
      checkSettings: (_group, changed) => {
        const bad = changed.egressAllowlist?.find((t) => parsePattern(t) === null);
        return bad === undefined
          ? null
          : `Invalid settings: sandbox.egressAllowlist: "${bad.slice(0, 300)}" must be a destination such as ` +
              'example.com, *.example.com, example.com:8443 or 10.0.0.5:5432.';
      },
    };
  },
};
