// The wire between the runner (inside a sandbox) and the host's gateway. The
// runner speaks HTTP over the one unix socket bound into its sandbox; the
// gateway knows which group is calling from the socket, never from a payload.

export const GATEWAY_SOCKET_INSIDE = '/run/nanoclaw/gateway.sock';

/** A batch of chat messages for the agent, as one user turn. */
export interface Turn {
  /** Prompt text (the escaped catch-up transcript, or a scheduled task's prompt). */
  prompt: string;
  /** Images to show the model with this turn, as paths inside /workspace/group. */
  images?: { path: string; mimeType: string }[];
  /** Other files (PDFs, text) to show the model with this turn, as paths inside /workspace/group. */
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
  /** A sub-agent (Task/Agent tool, agent teams) started or stopped inside this sandbox. */
  | { type: 'subagent'; state: 'start' | 'stop'; agentId: string; agentType: string }
  | { type: 'error'; message: string; sessionNotFound?: boolean };

/** POST /tools/<name> with the tool's arguments; the answer is shown to the model. */
export type ToolAnswer = { ok: true; text: string } | { ok: false; error: string };
