// The runner–gateway wire: HTTP over the sandbox's own socket, which (never a payload) names the group.

export const GATEWAY_SOCKET_INSIDE = '/run/nanoclaw/gateway.sock';

export interface Turn {
  prompt: string;
  // Paths inside /workspace/group.
  images?: { path: string; mimeType: string }[];
  files?: { path: string; mimeType: string }[];
}

export interface StartInfo {
  turn: Turn;
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
  | { type: 'activity'; tool: string }
  | { type: 'subagent'; state: 'start' | 'stop'; agentId: string; agentType: string }
  | { type: 'error'; message: string; sessionNotFound?: boolean };

export type ToolAnswer = { ok: true; text: string } | { ok: false; error: string };
