// What `nanoclaw status`, the dashboard and the API show about a running host.
import type { StatusResponse } from './api/types.js';
import type { LiveAgent } from './agent/agent.js';
import type { Config } from './config/config.js';
import type { GroupQueue } from './queue/group-queue.js';
import type { Store } from './store/index.js';
import type { Channel, ChannelState, SandboxRuntime } from './types.js';

export type HostStatus = StatusResponse;

interface StatusDeps {
  config: Config;
  store: Store;
  runtime: SandboxRuntime | null;
  runtimeProblems: string[];
  problems(): string[];
  channels: readonly Channel[];
  channelStates: ReadonlyMap<string, ChannelState>;
  agents: ReadonlyMap<string, LiveAgent>;
  queue: GroupQueue;
  /** The plugins' fields (health's lastError, the dashboard's channel plugins). */
  extra(): Record<string, unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function createStatus(deps: StatusDeps): () => HostStatus {
  const startedAt = iso(Date.now());
  return () =>
    ({
      pid: process.pid,
      startedAt,
      assistantName: deps.config.assistantName,
      runtime: deps.runtime?.name ?? null,
      problems: [...deps.runtimeProblems, ...deps.problems()],
      credential: !!deps.config.credential,
      channels: deps.channels.map((c) => ({
        name: c.name,
        ...deps.channelStates.get(c.name),
        connected: c.isConnected(),
      })),
      agents: [...deps.agents.values()].map((a) => ({
        jid: a.group.jid,
        folder: a.group.folder,
        name: a.group.name,
        startedAt: iso(a.startedAt),
        tool: a.currentTool,
        working: a.inTurn,
      })),
      queue: { active: deps.queue.activeCount(), waiting: deps.queue.waitingCount() },
      groups: deps.store.groups.list().length,
      ...deps.extra(),
    }) as HostStatus;
}
