// One live agent: a group's sandbox, its gateway endpoint, and the turns that
// flow through them. A job says what the turns are and what to do with each
// result (messages: commit reply + cursor; tasks: record the run); this file
// only runs the sandbox, feeds turns one at a time, and enforces the timeouts.
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { Config } from '../config/config.js';
import type { Gateway, Identity } from '../gateway/gateway.js';
import type { HomePaths } from '../config/home.js';
import type { Logger } from '../logger.js';
import { clip, describeProblem, type ModelOutcome, type ModelProblem } from '../gateway/model-problem.js';
import { groupMounts, INSIDE, memoryStamp } from '../sandbox/mounts.js';
import { proxyEnv } from '../sandbox/sandbox-env.js';
import { modeFor } from '../ask.js';
import type { SandboxParts, SandboxStart } from '../sandbox/parts.js';
import type { Mount, RegisteredGroup, SandboxRuntime } from '../types.js';
import type { NextAnswer, RunnerEvent, StartInfo, ToolAnswer, ToolSpec, Turn } from '../../../runner/protocol.js';
import { GATEWAY_SOCKET_INSIDE } from '../../../runner/protocol.js';
import { turnContext, type AgentJob, type HostTurn } from '../conversation/turn.js';

/** What the runner gets: the host's note of who asked stays on the host. */
const forRunner = (t: HostTurn): Turn => {
  const { requesters: _, ...turn } = t;
  return turn;
};

export interface AgentDeps {
  config: Config;
  paths: HomePaths;
  runtime: SandboxRuntime;
  gateway: Gateway;
  logger: Logger;
  tool: ((identity: Identity, name: string, args: unknown) => Promise<ToolAnswer>) & { specs?: ToolSpec[] };
  setTyping(jid: string, typing: boolean): void;
  /** Timing hook (bench). */
  onPromptDelivered?(groupFolder: string, kind: 'cold' | 'warm'): void;
  /** The group as stored now, so settings changed while its sandbox lives apply. */
  currentGroup?(jid: string): RegisteredGroup | undefined;
  /** What plugins add to a sandbox when it starts (the browser, staged host folders). */
  sandbox?: readonly ((s: SandboxStart) => SandboxParts | void)[];
}

export class AgentFailure extends Error {
  /** `retryable: false` for failures a retry would only repeat (a limit hit, a refused mount). */
  constructor(
    message: string,
    readonly userMessage: string,
    readonly sessionNotFound = false,
    readonly retryable = true,
  ) {
    super(message);
  }
}

export interface LiveAgent {
  group: RegisteredGroup;
  startedAt: number;
  currentTool: string | null;
  /** Sub-agents at work in this sandbox, by the SDK's agent id. */
  subagents: Map<string, { type: string; startedAt: number }>;
  /** In a turn (working), rather than idle waiting for a follow-up. */
  readonly inTurn: boolean;
  /** New messages arrived: take them as a follow-up. False if the agent is closing. */
  wake(): boolean;
  /** Ask it to finish after the current turn. */
  close(): void;
  /** Stop now. */
  kill(reason: string): void;
  done: Promise<void>;
}

function socketPathFor(paths: HomePaths, id: string): string {
  const preferred = path.join(paths.sockets, `${id}.sock`);
  if (preferred.length < 100) return preferred;
  // Unix socket paths are limited to ~107 bytes; long homes use a short private dir.
  const dir = path.join(
    os.tmpdir(),
    `nanoclaw-${crypto.createHash('sha256').update(paths.home).digest('hex').slice(0, 12)}`,
  );
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Its name is predictable, so another local user may have made it first; whoever
  // can reach the socket can use the credential and this group's tools.
  const st = fs.lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new AgentFailure(
      `socket dir ${dir} is not a directory`,
      `${dir} is not a private folder (remove it and try again)`,
      false,
      false,
    );
  }
  if (process.getuid && st.uid !== process.getuid()) {
    throw new AgentFailure(
      `socket dir ${dir} is owned by uid ${st.uid}`,
      `${dir} belongs to another user (remove it and try again)`,
      false,
      false,
    );
  }
  if (st.mode & 0o077) fs.chmodSync(dir, 0o700);
  // A short name: a 64-character folder would not fit even here.
  return path.join(dir, `${crypto.createHash('sha256').update(id).digest('hex').slice(0, 16)}.sock`);
}

/** A refused credential is final; an unavailable upstream is worth another try. */
function modelFailure(p: ModelProblem): AgentFailure {
  return new AgentFailure(`model API: ${p.message}`, describeProblem(p), false, p.kind !== 'auth');
}

const plural = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);

export function startAgent(deps: AgentDeps, group: RegisteredGroup, job: AgentJob): LiveAgent | null {
  const first = job.firstTurn();
  if (!first) return null;
  const { config, logger } = deps;
  const limits = {
    memoryMb: group.sandbox.memoryMb ?? 2048,
    cpus: group.sandbox.cpus ?? 1,
    pids: group.sandbox.pids ?? 512,
    outputCapBytes: group.sandbox.outputCapBytes ?? 16 * 1024 * 1024,
  };
  const turnTimeout = group.sandbox.timeoutMs ?? config.agentTimeoutMs;
  const idleTimeout = group.sandbox.idleTimeoutMs ?? config.idleTimeoutMs;
  const id = `${group.folder}-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
  const identity: Identity = {
    groupFolder: group.folder,
    chatJid: group.jid,
    isMain: group.isMain,
    taskId: job.taskId,
  };

  let sessionId = job.sessionId;
  let closing = false;
  let inTurn = true;
  // What `nanoclaw logs` shows per finished turn.
  let turn = { n: 0, at: Date.now(), tokens: 0 };
  let failure: AgentFailure | null = null;
  // The gateway's word on the last model call: the CLI's own error text is shorter and vaguer.
  let modelProblem: ModelProblem | null = null;
  let waiter: ((a: NextAnswer) => void) | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  let turnTimer: NodeJS.Timeout | null = null;
  let sandbox: ReturnType<SandboxRuntime['start']> | null = null;
  const added: SandboxParts[] = [];
  // The SDK reads CLAUDE.md once, when the sandbox starts: a turn after memory
  // changed needs a new sandbox (resuming the same session) to see it.
  let memoryAtStart: string | null = null;
  const memoryChanged = (): boolean => {
    if (memoryAtStart === null || memoryStamp(deps.paths, group) === memoryAtStart) return false;
    logger.info(
      { group: group.folder },
      'memory changed since the agent started; the next turn starts a fresh sandbox',
    );
    return true;
  };

  const armTurnTimer = () => {
    if (turnTimer) clearTimeout(turnTimer);
    if (turnTimeout > 0)
      turnTimer = setTimeout(
        () => live.kill(`it was still working after ${plural(turnTimeout)} (AGENT_TIMEOUT)`),
        turnTimeout,
      );
  };
  const beginTurn = (t: HostTurn) => {
    // Fixed now, for every tool call until this turn's result: who writes meanwhile is the next turn's.
    identity.turn = turnContext(identity, t.requesters ?? []);
    inTurn = true;
    turn = { n: turn.n + 1, at: Date.now(), tokens: 0 };
    armTurnTimer();
    if (!job.isScheduledTask) deps.setTyping(group.jid, true);
  };
  const endTurn = () => {
    inTurn = false;
    identity.turn = undefined;
    if (turnTimer) clearTimeout(turnTimer);
    if (!job.isScheduledTask) deps.setTyping(group.jid, false);
  };
  const answer = (a: NextAnswer) => {
    const w = waiter;
    waiter = null;
    if (idleTimer) clearTimeout(idleTimer);
    w?.(a);
  };
  const fail = (f: AgentFailure) => {
    // A runner that fails because its sandbox hit a limit (a fork bomb starves the
    // CLI of threads, say): tell the chat which limit, not the symptom.
    const limit = failure ? null : (sandbox?.checkLimits?.() ?? null);
    failure ??= limit
      ? new AgentFailure(`sandbox stopped: ${limit}`, `its sandbox was stopped because ${limit}`, false, false)
      : f;
    closing = true;
    answer({ close: true });
  };

  const handlers = {
    start: (): StartInfo => {
      deps.onPromptDelivered?.(group.folder, 'cold');
      return {
        turn: forRunner(first),
        tools: deps.tool.specs ?? [],
        sessionId,
        assistantName: config.assistantName,
        isMain: group.isMain,
        groupName: group.name,
        isScheduledTask: job.isScheduledTask,
      };
    },
    next: (signal: AbortSignal): Promise<NextAnswer> =>
      new Promise((resolve) => {
        if (!closing && job.acceptsFollowUps && memoryChanged()) closing = true;
        if (closing || !job.acceptsFollowUps) return resolve({ close: true });
        const turn = job.nextTurn();
        if (turn) {
          beginTurn(turn);
          deps.onPromptDelivered?.(group.folder, 'warm');
          return resolve({ turn: forRunner(turn) });
        }
        waiter = resolve;
        signal.addEventListener('abort', () => {
          if (waiter === resolve) waiter = null;
        });
        if (idleTimer) clearTimeout(idleTimer);
        idleTimer = setTimeout(() => {
          closing = true;
          answer({ close: true });
        }, idleTimeout);
      }),
    event: (e: RunnerEvent) => {
      if (e.type === 'session') sessionId = e.sessionId;
      else if (e.type === 'activity') live.currentTool = e.tool;
      else if (e.type === 'subagent') {
        if (e.state === 'start')
          live.subagents.set(e.agentId, { type: e.agentType.slice(0, 100), startedAt: Date.now() });
        else live.subagents.delete(e.agentId);
      } else if (e.type === 'result') {
        live.currentTool = null;
        endTurn();
        if (e.sessionId) sessionId = e.sessionId;
        // A turn that went over a limit (an OOM-killed command, say) is not a normal answer.
        const limit = sandbox?.checkLimits?.();
        const trigger = turn.n > 1 ? 'follow-up' : job.taskId ? `task ${job.taskId}` : 'message';
        const outcome = limit ? `stopped: ${limit}` : e.isError ? 'model error' : 'answered';
        logger.info(
          { group: group.folder, chat: group.jid, trigger, ms: Date.now() - turn.at, tokens: turn.tokens, outcome },
          'turn finished',
        );
        if (limit) {
          fail(new AgentFailure(`sandbox stopped: ${limit}`, `its sandbox was stopped because ${limit}`, false, false));
          return;
        }
        if (e.isError) {
          fail(
            modelProblem
              ? modelFailure(modelProblem)
              : new AgentFailure(
                  `model turn failed: ${e.text}`,
                  `the model API failed (${clip(e.text, 400) || 'no detail'})`,
                ),
          );
          return;
        }
        try {
          job.onResult(e.text, sessionId);
        } catch (err) {
          fail(
            new AgentFailure(`could not record the reply: ${(err as Error).message}`, 'its reply could not be saved'),
          );
        }
      } else if (e.type === 'error') {
        fail(
          modelProblem
            ? modelFailure(modelProblem)
            : new AgentFailure(
                `runner error: ${e.message}`,
                `the agent failed (${clip(e.message, 400)})`,
                !!e.sessionNotFound,
              ),
        );
      }
    },
    tool: (name: string, args: unknown) => deps.tool(identity, name, args),
    settle: async () => {
      const told = await Promise.all(added.map((a) => a.settle?.() ?? null));
      return told.filter(Boolean).join('\n') || null;
    },
    sessionId: () => sessionId,
    usage: (u: { inputTokens: number; outputTokens: number }) => {
      turn.tokens += u.inputTokens + u.outputTokens;
      job.onUsage?.(u.inputTokens + u.outputTokens);
    },
    modelCall: (outcome: ModelOutcome) => {
      modelProblem = outcome.ok ? null : outcome.problem;
      // A refused credential is refused again on every retry the CLI would make: stop now.
      if (modelProblem?.kind === 'auth') {
        fail(modelFailure(modelProblem));
        sandbox?.kill();
      }
    },
  };

  const live: LiveAgent = {
    group,
    startedAt: Date.now(),
    currentTool: null,
    subagents: new Map(),
    get inTurn() {
      return inTurn;
    },
    wake: () => {
      // A job without follow-ups (a scheduled task) leaves new messages to the queue.
      if (closing || !job.acceptsFollowUps) return false;
      // The queue runs the messages again in a fresh sandbox once this one has closed.
      if (memoryChanged()) {
        live.close();
        return false;
      }
      if (waiter) {
        const turn = job.nextTurn();
        if (turn) {
          beginTurn(turn);
          deps.onPromptDelivered?.(group.folder, 'warm');
          answer({ turn: forRunner(turn) });
        }
      }
      // Mid-turn: the runner asks for the next turn when this one ends.
      return true;
    },
    close: () => {
      closing = true;
      answer({ close: true });
    },
    kill: (reason: string) => {
      fail(new AgentFailure(`sandbox stopped: ${reason}`, `its sandbox was stopped because ${reason}`, false, false));
      sandbox?.kill();
    },
    done: Promise.resolve(),
  };

  live.done = (async () => {
    const socketPath = socketPathFor(deps.paths, id);
    // A VM cannot share the socket: it gets a TCP endpoint on the host with its own secret.
    const transport = deps.runtime.gatewayTransport ?? { kind: 'unix' as const };
    const endpoint =
      transport.kind === 'tcp'
        ? await deps.gateway.openTcpEndpoint(transport.listenHost, identity, handlers)
        : await deps.gateway.openEndpoint(socketPath, identity, handlers);
    const gatewayInside =
      transport.kind === 'tcp'
        ? `tcp://${transport.tcpHost}:${endpoint.address!.split(':').pop()}`
        : GATEWAY_SOCKET_INSIDE;
    try {
      const mounts = groupMounts(deps.paths, group);
      mounts.push({ hostPath: process.execPath, containerPath: '/app/bin/node', readonly: true });
      let hostMounts: Mount[] = [];
      let staged = false;
      const env: Record<string, string> = {};
      try {
        const current = () => deps.currentGroup?.(group.jid) ?? group;
        for (const add of deps.sandbox ?? []) {
          const got = add({ id, group, current, runtime: deps.runtime, hostMounts });
          if (!got) continue;
          added.push(got);
          if (got.hostMounts) [hostMounts, staged] = [got.hostMounts, !!got.staged];
          mounts.push(...(got.mounts ?? []));
          Object.assign(env, got.env);
        }
      } catch (err) {
        const why = (err as Error).message;
        throw new AgentFailure(`sandbox not started: ${why}`, `its sandbox was not started: ${why}`, false, false);
      }
      // mount_write: deny keeps host folders read-only; ask leaves only staged copies writable (the owner approves
      // the change set made in them). Words in a command decide neither.
      const writes = modeFor(deps.currentGroup?.(group.jid) ?? group, 'mount_write');
      if (writes === 'deny' || (writes === 'ask' && !staged))
        hostMounts = hostMounts.map((m) => ({ ...m, readonly: true }));
      mounts.push(...hostMounts);
      memoryAtStart = memoryStamp(deps.paths, group);
      beginTurn(first);
      sandbox = deps.runtime.start({
        id,
        groupFolder: group.folder,
        mounts,
        gatewaySocket: transport.kind === 'tcp' ? '' : socketPath,
        gatewaySocketInside: GATEWAY_SOCKET_INSIDE,
        env: {
          ...config.sandboxEnv,
          HOME: INSIDE.home,
          PATH: '/app/bin:/usr/local/bin:/usr/bin:/bin',
          LANG: 'C.UTF-8',
          TZ: config.timezone,
          NANOCLAW_GATEWAY_SOCKET: gatewayInside,
          ...(endpoint.secret ? { NANOCLAW_GATEWAY_SECRET: endpoint.secret } : {}),
          ...proxyEnv(),
          ...env,
        },
        command: ['/app/bin/node', INSIDE.runner],
        workdir: INSIDE.group,
        limits,
      });
      const exit = await sandbox.exited;
      const wasInTurn = inTurn;
      endTurn();
      if (idleTimer) clearTimeout(idleTimer);
      if (failure) throw failure;
      if (exit.reason && wasInTurn)
        throw new AgentFailure(
          `sandbox ended: ${exit.reason}`,
          `its sandbox was stopped because ${exit.reason}`,
          false,
          false,
        );
      if ((exit.code !== 0 || wasInTurn) && modelProblem) throw modelFailure(modelProblem);
      if (exit.code !== 0 || wasInTurn) {
        const tail = sandbox.output().trim().split('\n').slice(-5).join(' | ').slice(0, 500);
        logger.warn(
          { group: group.folder, code: exit.code, signal: exit.signal, tail },
          'sandbox exited before answering',
        );
        throw new AgentFailure(
          `sandbox exited with ${exit.signal ?? exit.code}: ${tail}`,
          'its sandbox stopped before answering',
        );
      }
    } finally {
      if (turnTimer) clearTimeout(turnTimer);
      await endpoint.close();
      for (const a of added) a.end?.();
    }
  })();
  return live;
}
