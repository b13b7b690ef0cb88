// The wire between runner and gateway: HTTP over the sandbox's one socket, which (never a payload)
// tells the gateway which group is calling.

export const GATEWAY_SOCKET_INSIDE = '/run/nanoclaw/gateway.sock';

/** A batch of chat messages for the agent, as one user turn. */
export interface Turn {
  prompt: string;
  // Paths inside /workspace/group.
  images?: { path: string; mimeType: string }[];
  files?: { path: string; mimeType: string }[];
}

/** GET /runner/start */
export interface StartInfo {
  turn: Turn;
  sessionId: string | null;
  assistantName: string;
  isMain: boolean;
  groupName: string;
  isScheduledTask: boolean;
}

/** GET /runner/next: the next turn, or an instruction to finish. */
export type NextAnswer = { turn: Turn } | { close: true } | { wait: true };

/** POST /runner/event */
export type RunnerEvent =
  | { type: 'session'; sessionId: string }
  | { type: 'result'; text: string; sessionId: string | null; isError: boolean }
  | { type: 'activity'; tool: string }
  | { type: 'subagent'; state: 'start' | 'stop'; agentId: string; agentType: string }
  | { type: 'error'; message: string; sessionNotFound?: boolean };

/** POST /tools/<name> with the tool's arguments; the answer is shown to the model. */
export type ToolAnswer = { ok: true; text: string } | { ok: false; error: string };
