// One live agent: a group's sandbox, its gateway endpoint, and the turns that flow through them. The job says what
// the turns are and what to do with each result; this file runs the sandbox, feeds it turns, enforces the timeouts.
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { Config } from '../config/config.js';
import type { EndpointHandlers, Gateway, Identity } from '../gateway/gateway.js';
import type { HomePaths } from '../config/home.js';
import type { Logger } from '../logger.js';
import { clip, describeProblem, type ModelProblem } from '../gateway/model-problem.js';
import { groupMounts, INSIDE, memoryStamp } from '../sandbox/mounts.js';
import { proxyEnv } from '../sandbox/sandbox-env.js';
import type { SandboxParts, SandboxStart } from '../sandbox/parts.js';
import type { Mount, RegisteredGroup, SandboxProcess, SandboxRuntime } from '../types.js';
import { GATEWAY_SOCKET_INSIDE, type NextAnswer, type ToolAnswer, type ToolSpec } from '../../../runner/protocol.js';
import { turnContext, type AgentJob, type HostTurn } from '../conversation/turn.js';

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
  /** What plugins add to a sandbox when it starts (parts.ts). */
  sandbox?: readonly ((s: SandboxStart) => SandboxParts | void)[];
  /** It waits for a follow-up now: a chat waiting for a slot may take its place. */
  onIdle?(): void;
  keepIdle?(group: RegisteredGroup): boolean;
}

export class AgentFailure extends Error {
  /** `retryable: false` for failures a retry would only repeat (a limit hit, a refused mount). */
  constructor(
    message: string,
    readonly userMessage: string,
    readonly sessionNotFound = false,
    readonly retryable = true,
    /** A turn its owner stopped: this is said, and the run ends without a retry. */
    readonly told?: string,
  ) {
    super(message);
  }
}

export const final = (message: string, userMessage: string) => new AgentFailure(message, userMessage, false, false);
const stopped = (why: string, how = 'stopped') =>
  final(`sandbox ${how}: ${why}`, `its sandbox was stopped because ${why}`);
/** A refused credential is final; an unavailable upstream is worth another try. */
const modelFailure = (p: ModelProblem) =>
  new AgentFailure(`model API: ${p.message}`, describeProblem(p), false, p.kind !== 'auth');
const hash = (s: string, n: number) => crypto.createHash('sha256').update(s).digest('hex').slice(0, n);
/** What the runner gets: the host's note of who asked stays on the host. */
const forRunner = ({ requesters: _, ...t }: HostTurn) => t;

function socketPathFor(paths: HomePaths, id: string): string {
  const preferred = path.join(paths.sockets, `${id}.sock`);
  if (preferred.length < 100) return preferred;
  // Unix socket paths are limited to ~107 bytes; long homes use a short private dir. Its name is predictable: another
  // local user may have made it first, and whoever can reach the socket can use the credential and the group's tools.
  const dir = path.join(os.tmpdir(), `nanoclaw-${hash(paths.home, 12)}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const again = '(remove it and try again)';
  if (st.isSymbolicLink() || !st.isDirectory())
    throw final(`socket dir ${dir} is not a directory`, `${dir} is not a private folder ${again}`);
  if (process.getuid && st.uid !== process.getuid())
    throw final(`socket dir ${dir} is owned by uid ${st.uid}`, `${dir} belongs to another user ${again}`);
  if (st.mode & 0o077) fs.chmodSync(dir, 0o700);
  // A short name: a 64-character folder would not fit even here.
  return path.join(dir, `${hash(id, 16)}.sock`);
}

export type LiveAgent = NonNullable<ReturnType<typeof startAgent>>;

export function startAgent(deps: AgentDeps, group: RegisteredGroup, job: AgentJob) {
  const first = job.firstTurn();
  if (!first && !job.warm) return null;
  const { config, logger, paths, runtime, tool, onPromptDelivered } = deps;
  const { folder, jid, sandbox: s } = group;
  const turnTimeout = s.timeoutMs ?? config.agentTimeoutMs;
  const id = `${folder}-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
  const identity: Identity = { groupFolder: folder, chatJid: jid, isMain: group.isMain, taskId: job.taskId };
  const current = () => deps.currentGroup?.(jid) ?? group;
  let sessionId = job.sessionId;
  let closing = false;
  // 0: a warm agent, the first to make room.
  let idleSince: number | null = first ? null : 0;
  let turn = { n: 0, at: 0, tokens: 0 }; // what `nanoclaw logs` shows per finished turn
  let failure: AgentFailure | undefined;
  // The gateway's word on the last model call: the CLI's own error text is shorter and vaguer.
  let modelProblem: ModelProblem | null = null;
  // The runner's request for its next turn, while it waits for one.
  let waiter: ((a: NextAnswer) => void) | null = null;
  let turnTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let box: SandboxProcess | undefined;
  // The SDK reads CLAUDE.md once, when the sandbox starts: a turn after memory (or settings) changed needs a new one.
  let memoryAtStart: string | undefined;
  const stamp = () => memoryStamp(paths, group) + JSON.stringify(current().sandbox);
  const added: SandboxParts[] = [];

  const took =
    turnTimeout >= 60_000 ? `${Math.round(turnTimeout / 60_000)} min` : `${Math.round(turnTimeout / 1000)} s`;
  /** Starts turn `t`, or ends the current one; in a turn while identity.turn is set. */
  const setTurn = (t?: HostTurn) => {
    // Fixed now, for every tool call until this turn's result: who writes meanwhile is the next turn's.
    identity.turn = t && turnContext(identity, t.requesters ?? []);
    if (t) idleSince = null;
    clearTimeout(turnTimer);
    if (t) turn = { n: turn.n + 1, at: Date.now(), tokens: 0 };
    if (t && turnTimeout > 0)
      turnTimer = setTimeout(() => live.kill(`it was still working after ${took} (AGENT_TIMEOUT)`), turnTimeout);
    if (!job.isScheduledTask) deps.setTyping(jid, !!t);
  };
  const answer = (a: NextAnswer) => {
    const w = waiter;
    waiter = null;
    clearTimeout(idleTimer);
    w?.(a);
  };
  const close = () => {
    closing = true;
    answer({ close: true });
  };
  /** The first failure is the one reported; with `model`, the model API's own word on it if there is one. */
  const fail = (f: AgentFailure, model = false) => {
    // A runner that fails because its sandbox hit a limit (a fork bomb starves the CLI of threads): name the limit.
    const limit = failure ? null : box?.checkLimits?.();
    failure ??= limit ? stopped(limit) : model && modelProblem ? modelFailure(modelProblem) : f;
    close();
  };
  const stop = (f: AgentFailure) => {
    fail(f);
    box?.kill();
  };

  const handlers: EndpointHandlers = {
    start: () => {
      if (first) onPromptDelivered?.(folder, 'cold');
      return {
        turn: first && forRunner(first),
        tools: tool.specs ?? [],
        sessionId,
        assistantName: config.assistantName,
        isMain: group.isMain,
        groupName: group.name,
        isScheduledTask: job.isScheduledTask,
      };
    },
    next: (signal) =>
      new Promise((resolve) => {
        waiter = resolve;
        signal.addEventListener('abort', () => {
          if (waiter === resolve) waiter = null;
        });
        if (!live.wake()) return answer({ close: true });
        clearTimeout(idleTimer);
        if (waiter !== resolve) return;
        idleSince ??= Date.now();
        // A warm agent's starter closes it; one that idled out may be kept as one (0: warm).
        const idledOut = () => (deps.keepIdle?.(group) ? (idleSince = 0) : close());
        if (turn.n) idleTimer = setTimeout(idledOut, s.idleTimeoutMs ?? config.idleTimeoutMs);
        deps.onIdle?.();
      }),
    event: (e) => {
      if (e.type === 'session') sessionId = e.sessionId;
      else if (e.type === 'activity') live.currentTool = e.tool;
      else if (e.type === 'error') {
        const why = `the agent failed (${clip(e.message, 400)})`;
        fail(new AgentFailure(`runner error: ${e.message}`, why, !!e.sessionNotFound), true);
      } else if (e.type === 'result') {
        live.currentTool = null;
        setTurn();
        if (e.sessionId) sessionId = e.sessionId;
        // A turn that went over a limit (an OOM-killed command, say) is not a normal answer.
        const limit = box?.checkLimits?.();
        const trigger = turn.n > 1 ? 'follow-up' : job.taskId ? `task ${job.taskId}` : 'message';
        const outcome = limit ? `stopped: ${limit}` : e.isError ? 'model error' : 'answered';
        const ms = Date.now() - turn.at;
        logger.info({ group: folder, chat: jid, trigger, ms, tokens: turn.tokens, outcome }, 'turn finished');
        if (limit) return fail(stopped(limit));
        const why = `the model API failed (${clip(e.text, 400) || 'no detail'})`;
        if (e.isError) return fail(new AgentFailure(`model turn failed: ${e.text}`, why), true);
        try {
          job.onResult(e.text, sessionId);
        } catch (err) {
          fail(
            new AgentFailure(`could not record the reply: ${(err as Error).message}`, 'its reply could not be saved'),
          );
        }
      }
    },
    tool: (name, args) => tool(identity, name, args),
    settle: async () => (await Promise.all(added.map((a) => a.settle?.() ?? null))).filter(Boolean).join('\n') || null,
    sessionId: () => sessionId,
    usage: ({ inputTokens, outputTokens }) => {
      turn.tokens += inputTokens + outputTokens;
      job.onUsage?.(inputTokens + outputTokens);
    },
    modelCall: (o) => {
      modelProblem = o.ok ? null : o.problem;
      // A refused credential is refused again on every retry the CLI would make: stop now.
      if (modelProblem?.kind === 'auth') stop(modelFailure(modelProblem));
    },
  };

  const run = async () => {
    const endpoint = await deps.gateway.openEndpoint(socketPathFor(paths, id), identity, handlers, runtime);
    try {
      const env = {
        ...config.sandboxEnv,
        HOME: INSIDE.home,
        PATH: '/app/bin:/usr/local/bin:/usr/bin:/bin',
        LANG: 'C.UTF-8',
        TZ: config.timezone,
        NANOCLAW_GATEWAY_SOCKET: GATEWAY_SOCKET_INSIDE,
        ...endpoint.env,
        ...proxyEnv(),
      };
      const mounts = [
        ...groupMounts(paths, group),
        { hostPath: process.execPath, containerPath: '/app/bin/node', readonly: true },
      ];
      let hostMounts: Mount[] = [];
      let writable = false;
      try {
        for (const add of deps.sandbox ?? []) {
          const got = add({ id, group, current, runtime, hostMounts }) ?? {};
          added.push(got);
          if (got.hostMounts) [hostMounts, writable] = [got.hostMounts, !!got.writable];
          mounts.push(...(got.mounts ?? []));
          Object.assign(env, got.env);
        }
      } catch (err) {
        const why = (err as Error).message;
        throw final(`sandbox not started: ${why}`, `its sandbox was not started: ${why}`);
      }
      mounts.push(...hostMounts.map((m) => (writable ? m : { ...m, readonly: true })));
      memoryAtStart = stamp();
      if (first) setTurn(first);
      box = runtime.start({
        id,
        groupFolder: folder,
        mounts,
        gatewaySocket: endpoint.socketPath,
        gatewaySocketInside: GATEWAY_SOCKET_INSIDE,
        env,
        command: ['/app/bin/node', INSIDE.runner],
        workdir: INSIDE.group,
        limits: {
          memoryMb: s.memoryMb ?? 2048,
          cpus: s.cpus ?? 1,
          pids: s.pids ?? 512,
          outputCapBytes: s.outputCapBytes ?? 16 * 1024 * 1024,
        },
      });
      const exit = await box.exited;
      const wasInTurn = !!identity.turn;
      setTurn();
      clearTimeout(idleTimer);
      if (failure) throw failure;
      if (exit.reason && wasInTurn) throw stopped(exit.reason, 'ended');
      if (exit.code === 0 && !wasInTurn) return;
      if (modelProblem) throw modelFailure(modelProblem);
      const tail = box.output().trim().split('\n').slice(-5).join(' | ').slice(0, 500);
      logger.warn({ group: folder, code: exit.code, signal: exit.signal, tail }, 'sandbox exited before answering');
      throw new AgentFailure(
        `sandbox exited with ${exit.signal ?? exit.code}: ${tail}`,
        'its sandbox stopped before answering',
      );
    } finally {
      clearTimeout(turnTimer);
      await endpoint.close();
      for (const a of added) a.end?.();
    }
  };

  const live = {
    group,
    startedAt: Date.now(),
    currentTool: null as string | null,
    /** Starting or in a turn, rather than idle waiting for a follow-up. */
    get inTurn() {
      return !box || !!identity.turn;
    },
    /** Since when it has waited for a follow-up; null while it works. */
    get idleSince() {
      return idleSince;
    },
    /** New messages arrived: take them as a follow-up. False if the agent is closing. */
    wake: () => {
      // A job without follow-ups (a scheduled task) leaves new messages to the queue.
      if (closing || !job.acceptsFollowUps) return false;
      // The queue runs the messages again in a fresh sandbox (resuming the same session) once this one has closed.
      if (memoryAtStart !== undefined && stamp() !== memoryAtStart) {
        logger.info({ group: folder }, 'memory or settings changed; the next turn starts a fresh sandbox');
        close();
        return false;
      }
      // Mid-turn, the runner asks for the next turn when this one ends.
      const t = waiter && job.nextTurn();
      if (t) {
        setTurn(t);
        onPromptDelivered?.(folder, 'warm');
        answer({ turn: forRunner(t) });
      }
      return true;
    },
    /** Finish after the current turn. */
    close,
    kill: (reason: string | AgentFailure) => stop(typeof reason === 'string' ? stopped(reason) : reason),
    done: Promise.resolve(),
  };
  live.done = run();
  return live;
}
