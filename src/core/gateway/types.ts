// The gateway's seams: who a sandbox is (fixed by the endpoint it calls), what
// the live agent behind an endpoint answers, and what the host gives the gateway.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Credential } from '../config/config.js';
import type { TurnContext } from '../conversation/turn.js';
import type { Logger } from '../logger.js';
import type { NextAnswer, RunnerEvent, StartInfo, ToolAnswer } from '../../../runner/protocol.js';
import type { EgressRules, OwnPorts, Resolver } from '../../plugins/egress/policy.js';
import type { EgressEvent } from '../../plugins/egress/proxy.js';
import type { ModelOutcome } from './model-problem.js';

/** One model call's usage, as the upstream reported it. */
export interface UsageRecord {
  groupFolder: string;
  sessionId?: string | null;
  taskId?: string | null;
  model?: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface Identity {
  groupFolder: string;
  chatJid: string;
  isMain: boolean;
  taskId: string | null;
  /** Who started the turn in progress, set by the host when the turn begins; none between turns. */
  turn?: TurnContext;
}

/** What the live agent behind one endpoint answers. */
export interface EndpointHandlers {
  start(): StartInfo;
  next(signal: AbortSignal): Promise<NextAnswer>;
  event(e: RunnerEvent): void;
  tool(name: string, args: unknown): Promise<ToolAnswer>;
  /** Current session, for metering. */
  sessionId(): string | null;
  /** Usage of each model call, as the upstream reported it. */
  usage?(u: Omit<UsageRecord, 'groupFolder' | 'sessionId' | 'taskId'>): void;
  /** What a model call's answer says about the model API (a refused credential, an overloaded upstream, or fine). */
  modelCall?(outcome: ModelOutcome): void;
  /** A tool call or turn ended: staged host folders are settled with the owner; answers what to tell the agent. */
  settle?(): Promise<string | null>;
}

export interface GatewayDeps {
  upstream: string;
  /** May refresh (OAuth) first; throws with a message for the user when there is no usable credential. */
  credential: () => Credential | null | Promise<Credential | null>;
  recordUsage: (u: UsageRecord) => void;
  logger: Logger;
  /** Each destination the egress proxy was asked for (besides the log). */
  onEgress?: (e: EgressEvent) => void;
  /** DNS for the egress policy (tests use a fake). */
  resolve?: Resolver;
  /** The same, for the host (status, notices). */
  onModelCall?: (identity: Identity, outcome: ModelOutcome) => void;
  /** How long a refused credential is answered from memory (default 5 min). */
  refusalTtlMs?: number;
  /** The owner's "ask me first" decisions, made on the host for the calling group (src/approvals/). */
  approvals?: GatewayApprovals;
  /** The host's own ports (the host adds its API's); the gateway adds its TCP endpoints. Default: a set of its own. */
  ownPorts?: OwnPorts;
}

export interface GatewayApprovals {
  egress(identity: Identity, host: string, port: number): Promise<{ approved: boolean; message: string }>;
  /** A built-in tool the runner is about to run (Bash, Write, ...): the host classifies it, the runner only obeys. */
  tool(identity: Identity, toolName: string, input: unknown): Promise<{ approved: boolean; message: string }>;
  /** The proxy refused the owner's own machine or network without asking: the owner is told, plainly. */
  ownNetwork?(identity: Identity, host: string, port: number, reason: string): void;
}

export interface EndpointOptions {
  /**
   * The group's egress policy; default: the model API plus the web by name. A
   * function is asked again for each connection and request, so a policy
   * changed while the sandbox lives applies to its next connection.
   */
  egress?: EgressRules | (() => EgressRules);
}

export interface Endpoint {
  socketPath: string;
  /** For TCP endpoints: where to connect (tcp://host:port) and the secret to present. */
  address?: string;
  secret?: string;
  close(): Promise<void>;
}

/** What plugins add to every sandbox's gateway. */
export interface GatewayHooks {
  /** Each model call's usage. */
  onUsage?(u: UsageRecord): void;
  /** What each model call's answer says about the model API. */
  onModelCall?(identity: Identity, outcome: ModelOutcome): void;
  /**
   * The sandbox's network: its proxy requests (CONNECT and absolute URIs). Without a plugin that
   * handles them, a sandbox reaches nothing but the model API.
   */
  network?: {
    connect(identity: Identity, req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
    request(identity: Identity, req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  };
}
