// The gateway's seams: what an endpoint's agent answers, what routes are given, what host and plugins give.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpBindings } from '@hono/node-server';
import type { Hono } from 'hono';
import type { NextAnswer, RunnerEvent, StartInfo, ToolAnswer } from '../../../runner/protocol.js';
import type { Approver } from '../ask.js';
import type { Credential } from '../config/config.js';
import type { Identity } from '../conversation/turn.js';
import type { Logger } from '../logger.js';
import type { ModelOutcome } from './model-problem.js';

export type { Identity };

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

export interface EndpointHandlers {
  start(): StartInfo;
  next(signal: AbortSignal): Promise<NextAnswer>;
  event(e: RunnerEvent): void;
  tool(name: string, args: unknown): Promise<ToolAnswer>;
  /** Current session, for metering. */
  sessionId(): string | null;
  usage?(u: Omit<UsageRecord, 'groupFolder' | 'sessionId' | 'taskId'>): void;
  /** What a model call's answer says about the model API. */
  modelCall?(outcome: ModelOutcome): void;
  /** A tool call or turn ended: staged host folders are settled with the owner; answers what to tell the agent. */
  settle?(): Promise<string | null>;
}

/** Every route's: its endpoint's sandbox, the Node request and response, a call's parsed body. */
export type GatewayEnv = {
  Bindings: HttpBindings & { identity: Identity; handlers: EndpointHandlers };
  Variables: { body: any };
};

export interface GatewayDeps {
  upstream: string;
  /** May refresh (OAuth) first; throws with a message for the user when there is no usable credential. */
  credential: () => Credential | null | Promise<Credential | null>;
  logger: Logger;
  /** The host's own ports; a runtime's own endpoints (a VM's TCP port) add theirs while open. */
  ownPorts: Set<number>;
  hooks: readonly GatewayHooks[];
  /** Asked before a built-in tool the runner runs (Bash, Write, Edit): the host decides, the runner obeys. */
  approver: Pick<Approver, 'runnerTool'>;
}

/** What plugins add to every sandbox's gateway. */
export interface GatewayHooks {
  onUsage?(u: UsageRecord): void;
  onModelCall?(identity: Identity, outcome: ModelOutcome): void;
  /** A model call went upstream; `answered` settles when its response headers come or it fails. */
  onModelRequest?(identity: Identity, answered: Promise<unknown>): void;
  /** Each runner report (a tool call starting). */
  onRunnerEvent?(identity: Identity, e: RunnerEvent): void;
  /** Sends a model call in place of fetch(upstream + path); the first hook's. */
  send?(path: string, init: RequestInit, identity: Identity): Promise<Response>;
  /** Its own routes (a POST's JSON is c.var.body). */
  routes?(app: Hono<GatewayEnv>): void;
  /** The sandbox's network (CONNECT, absolute URIs), the first hook's that has it; without one, only the model API. */
  network?: {
    connect(identity: Identity, req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
    request(identity: Identity, req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  };
}
