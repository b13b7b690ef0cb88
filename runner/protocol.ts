// The runner–gateway wire: HTTP over the sandbox's own socket, which (never a payload) names the group.
export const GATEWAY_SOCKET_INSIDE = '/run/nanoclaw/gateway.sock';

type Attached = { path: string; mimeType: string }[]; // paths inside /workspace/group
export type Turn = { prompt: string; images?: Attached; files?: Attached };

/** A host tool as the model sees it: the runner offers it as mcp__nanoclaw__<name>. */
export type ToolSpec = { name: string; description: string; inputSchema: Record<string, unknown> };

export interface StartInfo {
  turn: Turn | null;
  tools: ToolSpec[];
  sessionId: string | null;
  assistantName: string;
  isMain: boolean;
  groupName: string;
  isScheduledTask: boolean;
}

export type NextAnswer = { turn: Turn } | { close: true } | { wait: true };

export type RunnerEvent =
  | { type: 'session'; sessionId: string }
  | { type: 'result'; text: string; sessionId: string | null; isError: boolean }
  | { type: 'activity'; tool: string; detail?: string }
  | { type: 'subagent'; state: 'start' | 'stop'; agentId: string; agentType: string }
  | { type: 'error'; message: string; sessionNotFound?: boolean };

export type ToolAnswer = { ok: true; text: string } | { ok: false; error: string };
