import type { Hono } from 'hono';
import type { AgentDeps } from './agent/agent.js';
import type { InboundDeps } from './inbound/receive.js';
import type { PluginCore } from './plugin.js';
import type { Channel } from './types.js';

/** now, resolve: tests move the plugins' clock and answer DNS without a network. */
export interface HostOptions
  extends
    Pick<PluginCore, 'config' | 'now' | 'resolve'>,
    Partial<Pick<PluginCore, 'logger' | 'channelPlugins' | 'runtime'>>,
    Pick<InboundDeps, 'onRouted'>,
    Pick<AgentDeps, 'onPromptDelivered'> {
  /** Besides the local one (default: those configured). */
  channels?: Channel[];
  extendApi?(app: Hono, host: Host): void;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- plugins add to it (declaration merging)
export interface HostExtensions {}

export type Host = HostExtensions &
  Pick<PluginCore, 'config' | 'paths' | 'store' | 'logger' | 'runtime' | 'channels' | 'agents' | 'queue' | 'status'> &
  Pick<PluginCore, 'receive' | 'subscribe'> & {
    url: string;
    token: string;
    runtimeProblems: string[];
    stop(): Promise<void>;
  };
