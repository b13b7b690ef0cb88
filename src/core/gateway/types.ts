// The gateway's seams: who a sandbox is (fixed by the endpoint it calls), what
// the live agent behind an endpoint answers, what the host gives the gateway,
// and what plugins add to it (GatewayHooks).
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Approver } from '../ask.js';
import type { Credential } from '../config/config.js';
import type { Identity } from '../conversation/turn.js';

export type { Identity };
import type { Logger } from '../logger.js';
import type { NextAnswer, RunnerEvent, StartInfo, ToolAnswer } from '../../../runner/protocol.js';
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
  logger: Logger;
  /** The host's own ports (the host adds its API's); the gateway adds its TCP endpoints while they are open. */
  ownPorts: Set<number>;
  /** What plugins add: usage and model-call reports to each that wants them, the sandbox's network to the first that handles it. */
  hooks: readonly GatewayHooks[];
  /** Asks before a built-in tool the runner is about to run (Bash, Write, Edit): the host decides, the runner obeys. */
  approver: Pick<Approver, 'runnerTool'>;
  /** How long a refused credential is answered from memory (default 5 min). */
  refusalTtlMs?: number;
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
