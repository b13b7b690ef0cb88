import type { Hono } from 'hono';
import type { LiveAgent } from './agent/agent.js';
import type { ChannelPlugin } from './channels/plugin.js';
import type { Config } from './config/config.js';
import type { InboundDecision } from './inbound/receive.js';
import type { Logger } from './logger.js';
import type { PluginCore } from './plugin.js';
import type { GroupQueue } from './queue/group-queue.js';
import type { StoredMessage } from './store/messages.js';
import type { Channel, Message, SandboxRuntime } from './types.js';

export interface HostOptions {
  config: Config;
  logger?: Logger;
  /** Besides the local one (default: those configured). */
  channels?: Channel[];
  channelPlugins?: readonly ChannelPlugin[];
  runtime?: SandboxRuntime | null;
  listen?: boolean;
  onPromptDelivered?(groupFolder: string, kind: 'cold' | 'warm'): void;
  onRouted?(msg: Message, decision: InboundDecision): void;
  extendApi?(app: Hono, host: Host): void;
  /** Tests move the plugins' clock and answer DNS without a network. */
  now?: () => number;
  resolve?: (host: string) => Promise<string[]>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- plugins add to it (declaration merging)
export interface HostExtensions {}

export type Host = HostExtensions &
  Pick<PluginCore, 'config' | 'paths' | 'store' | 'logger' | 'runtime' | 'receive' | 'status'> & {
    url: string;
    token: string;
    runtimeProblems: string[];
    channels: Channel[];
    agents: Map<string, LiveAgent>;
    queue: GroupQueue;
    subscribe(listener: (m: StoredMessage) => void): () => void;
    stop(): Promise<void>;
  };
