// What `nanoclaw status`, the dashboard and the API show about a running host.
import { pluginInfo, type ChannelPlugin } from './channels/plugin.js';
import type { StatusResponse } from './api/types.js';
import type { LiveAgent } from './agent/agent.js';
import { describeProblem, type ModelProblem } from './gateway/model-problem.js';
import type { GroupQueue } from './queue/group-queue.js';
import type { Store } from './store/index.js';
import type { Channel, ChannelState, SandboxRuntime } from './types.js';

export type HostStatus = StatusResponse;

export interface StatusDeps {
  store: Store;
  assistantName: string;
  hasCredential: boolean;
  runtime: SandboxRuntime | null;
  runtimeProblems: string[];
  /** A problem with the sender allowlist file, if any. */
  senderProblem(): string | null;
  channels: readonly Channel[];
  channelStates: ReadonlyMap<string, ChannelState>;
  agents: ReadonlyMap<string, LiveAgent>;
  queue: Pick<GroupQueue, 'activeCount' | 'waitingCount'>;
  plugins: readonly ChannelPlugin[];
  /** The model API's current problem (a refused credential, an unreachable upstream), until a call succeeds. */
  modelProblem?(): ModelProblem | null;
  modelRecoveredAt?(): string | null;
}

export function createStatus(deps: StatusDeps): () => HostStatus {
  const startedAt = new Date().toISOString();
  return () => {
    const { store, channelStates } = deps;
    const recovered = deps.modelRecoveredAt?.() ?? null;
    const recent = store.usage.recentErrors(1)[0];
    // An error from before the model API worked again is history (the Activity page keeps it), not the current state.
    const last = recent && recovered && recent.at <= recovered ? undefined : recent;
    const senderProblem = deps.senderProblem();
    const model = deps.modelProblem?.() ?? null;
    return {
      pid: process.pid,
      startedAt,
      assistantName: deps.assistantName,
      runtime: deps.runtime?.name ?? null,
      problems: senderProblem ? [...deps.runtimeProblems, senderProblem] : deps.runtimeProblems,
      credential: deps.hasCredential,
      channels: deps.channels.map((c) => ({
        name: c.name,
        connected: c.isConnected(),
        detail: channelStates.get(c.name)?.detail,
        linking: channelStates.get(c.name)?.linking,
      })),
      agents: [...deps.agents.values()].map((a) => ({
        jid: a.group.jid,
        folder: a.group.folder,
        name: a.group.name,
        startedAt: new Date(a.startedAt).toISOString(),
        tool: a.currentTool,
        subagents: [...a.subagents].map(([id, s]) => ({
          id,
          type: s.type,
          startedAt: new Date(s.startedAt).toISOString(),
        })),
        working: a.inTurn,
      })),
      queue: { active: deps.queue.activeCount(), waiting: deps.queue.waitingCount() },
      groups: store.groups.list().length,
      // While the model API fails, that is the error that matters.
      lastError: model
        ? { at: model.at, message: `${describeProblem(model)}.`, chatJid: null }
        : last
          ? { at: last.at, message: last.message, chatJid: last.chatJid }
          : null,
      modelError: model
        ? { at: model.at, kind: model.kind, status: model.status, message: model.message, fix: model.fix }
        : null,
      plugins: deps.plugins.map(pluginInfo),
    };
  };
}
