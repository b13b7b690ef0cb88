// What the host is given and what it gives back; plugins add to the host object through HostExtensions.
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
  /** Chat-app channels to run besides the local one (default: those configured). */
  channels?: Channel[];
  /** The chat apps the host knows (default: the local chat and each plugin's). */
  channelPlugins?: readonly ChannelPlugin[];
  /** Use this runtime instead of selecting one (tests, bench). */
  runtime?: SandboxRuntime | null;
  /** Serve the HTTP API (default true). */
  listen?: boolean;
  onPromptDelivered?(groupFolder: string, kind: 'cold' | 'warm'): void;
  /** What became of each inbound message (tests, tracing). */
  onRouted?(msg: Message, decision: InboundDecision): void;
  /** Extra API routes (tests). */
  extendApi?(app: Hono, host: Host): void;
  /** The clock of the plugins that schedule (tests move it instead of waiting). */
  now?: () => number;
  /** DNS for the network policy (tests answer names without a network). */
  resolve?: (host: string) => Promise<string[]>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- what plugins expose (declaration merging)
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
