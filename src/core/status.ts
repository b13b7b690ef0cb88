// What `nanoclaw status`, the dashboard and the API show about a running host.
import { pluginInfo, type ChannelPlugin } from './channels/plugin.js';
import type { StatusResponse } from './api/types.js';
import type { LiveAgent } from './agent/agent.js';
import type { GroupQueue } from './queue/group-queue.js';
import type { Store } from './store/index.js';
import type { Channel, ChannelState, SandboxRuntime } from './types.js';

export type HostStatus = StatusResponse;

interface StatusDeps {
  store: Store;
  assistantName: string;
  hasCredential: boolean;
  runtime: SandboxRuntime | null;
  runtimeProblems: string[];
  /** Problems plugins report (a broken sender allowlist file). */
  problems(): string[];
  channels: readonly Channel[];
  channelStates: ReadonlyMap<string, ChannelState>;
  agents: ReadonlyMap<string, LiveAgent>;
  queue: Pick<GroupQueue, 'activeCount' | 'waitingCount'>;
  plugins: readonly ChannelPlugin[];
  /** Fields plugins add (health's lastError and modelError). */
  extra?: () => Record<string, unknown>;
}

export function createStatus(deps: StatusDeps): () => HostStatus {
  const startedAt = new Date().toISOString();
  return () => {
    const { store, channelStates } = deps;
    const status: HostStatus = {
      pid: process.pid,
      startedAt,
      assistantName: deps.assistantName,
      runtime: deps.runtime?.name ?? null,
      problems: [...deps.runtimeProblems, ...deps.problems()],
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
      lastError: null,
      modelError: null,
      plugins: deps.plugins.map(pluginInfo),
    };
    // A plugin's fields replace the defaults in place, so the answer keeps its order.
    return { ...status, ...deps.extra?.() } as HostStatus;
  };
}
