// What the host is given and what it gives back.
import type { Hono } from 'hono';
import type { ChannelPlugin } from './core/channels/plugin.js';
import type { AgentDeps, LiveAgent } from './core/agent/agent.js';
import type { Approvals } from './plugins/approvals/approvals.js';
import type { Config } from './core/config/config.js';
import type { homePaths } from './core/config/home.js';
import type { InboundDecision } from './core/inbound/receive.js';
import type { Resolver } from './plugins/egress/policy.js';
import type { Logger } from './core/logger.js';
import type { createGroupQueue } from './core/queue/group-queue.js';
import type { Scheduler } from './plugins/scheduler/scheduler.js';
import type { HostStatus } from './core/status.js';
import type { openStore } from './core/store/index.js';
import type { StoredMessage } from './core/store/messages.js';
import type { PairingRequest } from './plugins/pairing/store.js';
import type { Channel, Message, RegisteredGroup, SandboxRuntime } from './core/types.js';

export interface HostOptions {
  config: Config;
  logger?: Logger;
  /** Platform channels to run besides the local one (default: those configured). */
  channels?: Channel[];
  /** Use this runtime instead of selecting one (tests, bench). */
  runtime?: SandboxRuntime | null;
  /** Serve the HTTP API (default true). */
  listen?: boolean;
  /** Timing hooks for the bench. */
  onPromptDelivered?: AgentDeps['onPromptDelivered'];
  /** What became of each inbound message (tests, tracing). */
  /** The channel plugins (default: the registry's CHANNELS). */
  plugins?: readonly ChannelPlugin[];
  onRouted?: (msg: Message, decision: InboundDecision) => void;
  /** Extra API routes. */
  extendApi?: (app: Hono, host: Host) => void;
  /** The scheduler's clock (tests move it instead of waiting). */
  now?: () => number;
  /** DNS for the egress policy (tests answer names without a network). */
  resolve?: Resolver;
}

export interface Host {
  config: Config;
  paths: ReturnType<typeof homePaths>;
  store: ReturnType<typeof openStore>;
  logger: Logger;
  url: string;
  token: string;
  runtime: SandboxRuntime | null;
  runtimeProblems: string[];
  channels: Channel[];
  agents: Map<string, LiveAgent>;
  queue: ReturnType<typeof createGroupQueue>;
  scheduler: Scheduler;
  /** Hand a message to the host as if a channel received it. */
  receive(msg: Message, channel: Channel): number | null;
  /** Approve a pairing code (CLI, API). */
  approvePairing(code: string): { ok: true; value: RegisteredGroup } | { ok: false; error: string };
  pendingPairings(): PairingRequest[];
  subscribe(listener: (m: StoredMessage) => void): () => void;
  status(): HostStatus;
  stop(): Promise<void>;
  /** "Ask me first": pending and past requests, and the owner's answers. */
  approvals: Approvals;
}
