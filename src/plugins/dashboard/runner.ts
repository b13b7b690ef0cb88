// Runs inside the sandbox, mounted alone at /app/plugins/dashboard.js: it may import only node built-ins (and types).
// Reports agent-team members as they start and stop, for the Activity page and `nanoclaw status`.
import type { HookCallback, Options } from '@anthropic-ai/claude-agent-sdk';
import type { RunnerEvent } from '../../../runner/protocol.js';

export function hooks(_start: unknown, tell: (e: RunnerEvent) => Promise<unknown>): Options['hooks'] {
  const member: HookCallback = async ({ hook_event_name, agent_id, agent_type }) => {
    const state = hook_event_name === 'SubagentStart' ? 'start' : 'stop';
    await tell({ type: 'subagent', state, agentId: String(agent_id ?? ''), agentType: String(agent_type ?? 'agent') });
    return {};
  };
  return { SubagentStart: [{ hooks: [member] }], SubagentStop: [{ hooks: [member] }] };
}
