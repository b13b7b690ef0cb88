// What the dashboard shows live: the tool calls of a chat's turn as the runner reports them, a Stop for the turn
// at work, and the host's log (what `nanoclaw logs -f` prints) as it is written.
import { Hono } from 'hono';
import { streamSSE, type SSEMessage, type SSEStreamingApi } from 'hono/streaming';
import type { RunnerEvent } from '../../../runner/protocol.js';
import { AgentFailure, type LiveAgent } from '../../core/agent/agent.js';
import { ApiError } from '../../core/api/errors.js';
import type { Identity } from '../../core/gateway/types.js';
import type { Logger } from '../../core/logger.js';
import { followFile, tailLines } from '../../kit/log-file.js';
import { redact } from '../../core/secrets.js';
import type { Store } from '../../core/store/index.js';

/** One tool call, as the chat page shows it: "Bash · ls -la". */
export interface ToolCall {
  chatJid: string;
  tool: string;
  detail: string | null;
  at: string;
}

/** An agent-team member at work in a chat's sandbox. */
export type TeamMember = { id: string; type: string; startedAt: string };

/** The tool calls of every chat's turns, from the runner's reports, for whoever listens; and each chat's team. */
export function createToolFeed(agents: ReadonlyMap<string, LiveAgent>) {
  const listeners = new Set<(t: ToolCall) => void>();
  // By chat: the sandbox the members were reported from (a new one has none yet) and the members.
  const teams = new Map<string, { agent: LiveAgent | undefined; members: Map<string, TeamMember> }>();
  // Per chat, whether the run that last reported is a scheduled task's: its stop leaves the chat's messages be.
  const taskRuns = new Map<string, boolean>();
  return {
    onRunnerEvent(identity: Identity, e: RunnerEvent): void {
      taskRuns.set(identity.chatJid, !!identity.taskId);
      if (e.type === 'subagent') {
        const agent = agents.get(identity.chatJid);
        const known = teams.get(identity.chatJid);
        const team = known && known.agent === agent ? known : { agent, members: new Map<string, TeamMember>() };
        teams.set(identity.chatJid, team);
        if (e.state !== 'start') team.members.delete(e.agentId);
        else team.members.set(e.agentId, { id: e.agentId, type: e.agentType.slice(0, 100), startedAt: now() });
      }
      if (e.type !== 'activity' || identity.taskId) return;
      const detail = typeof e.detail === 'string' ? e.detail.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
      const call = { chatJid: identity.chatJid, tool: e.tool.slice(0, 100), detail: detail || null, at: now() };
      for (const fn of listeners) fn(call);
    },
    isTaskRun: (chatJid: string) => taskRuns.get(chatJid) ?? false,
    /** The members at work now, by chat; none for a sandbox that has ended. */
    teams(): Record<string, TeamMember[]> {
      const out: Record<string, TeamMember[]> = {};
      for (const [jid, team] of teams)
        if (team.agent && agents.get(jid) === team.agent && team.members.size) out[jid] = [...team.members.values()];
        else if (!team.agent || agents.get(jid) !== team.agent) teams.delete(jid);
      return out;
    },
    subscribe(fn: (t: ToolCall) => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

export type ToolFeed = ReturnType<typeof createToolFeed>;

const now = () => new Date().toISOString();

/** One line of the log, as the Logs page shows it. */
export interface LogLine {
  time: number | null;
  level: string;
  /** The group folder and chat the line is about, when it names them. */
  group: string | null;
  chat: string | null;
  text: string;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v']);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v && typeof v === 'object' && 'message' in v) return JSON.stringify((v as { message: unknown }).message);
  return JSON.stringify(v);
}

/** A line of logs/nanoclaw.log for people, as `nanoclaw logs` prints it; null for what is not a log entry. */
export function logLine(raw: string): LogLine | null {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!e || typeof e !== 'object') return null;
  const group = str(e.group) ?? str(e.groupFolder) ?? str(e.folder);
  const chat = str(e.chat) ?? str(e.chatJid) ?? str(e.jid) ?? str(e.key);
  let text: string;
  if (e.msg === 'turn finished' && group) {
    const ms = typeof e.ms === 'number' ? `${Math.round(e.ms / 100) / 10}s` : '?';
    const tokens = typeof e.tokens === 'number' ? `${e.tokens.toLocaleString('en')} tokens` : 'tokens unknown';
    text = `turn in ${group} (${chat ?? '?'}), ${String(e.trigger ?? 'message')}, ${ms}, ${tokens}: ${String(e.outcome ?? 'done')}`;
  } else {
    const fields = Object.entries(e)
      .filter(([k]) => !HIDDEN.has(k))
      .map(([k, v]) => `${k}=${fieldValue(v)}`);
    text = `${String(e.msg ?? '')}${fields.length ? `  ${fields.join(' ')}` : ''}`;
  }
  const level = typeof e.level === 'number' ? e.level : 30;
  return {
    time: typeof e.time === 'number' ? e.time : typeof e.time === 'string' ? Date.parse(e.time) || null : null,
    level: LEVELS[level] ?? String(level),
    group,
    chat,
    text: text.slice(0, 2000),
  };
}

/** An event stream that pings after 15 s of quiet (so a closed tab is noticed) until the client goes. */
function sse(run: (send: (e: SSEMessage) => void, stream: SSEStreamingApi) => () => void) {
  return (stream: SSEStreamingApi) => {
    let sent = Promise.resolve();
    let quiet: NodeJS.Timeout | undefined;
    const send = (e: SSEMessage) => {
      if (stream.aborted) return;
      clearTimeout(quiet);
      sent = sent.then(() => stream.writeSSE(e)).catch(() => {}); // a client gone mid-write is noticed on abort
      quiet = setTimeout(() => send({ event: 'ping', data: '{}' }), 15_000);
    };
    send({ event: 'ready', data: '{}' });
    const stop = run(send, stream);
    return new Promise<void>((done) =>
      stream.onAbort(() => {
        clearTimeout(quiet);
        stop();
        done();
      }),
    );
  };
}

const STOPPED = 'Stopped: you stopped this answer from the dashboard. Send a new message to go on.';

export interface LiveDeps {
  feed: ToolFeed;
  agents: ReadonlyMap<string, LiveAgent>;
  store: Pick<Store, 'messages' | 'outbox'>;
  logger: Logger;
  /** logs/nanoclaw.log */
  logFile: string;
}

export function liveApi(deps: LiveDeps): Hono {
  const app = new Hono();

  // GET /api/chats/:jid/tools: "tool" events, one per tool call of this chat's turns, as they start.
  app.get('/api/chats/:jid/tools', (c) => {
    const jid = c.req.param('jid');
    return streamSSE(
      c,
      sse((send) =>
        deps.feed.subscribe((t) => {
          if (t.chatJid === jid) send({ event: 'tool', data: redact(JSON.stringify(t)) });
        }),
      ),
    );
  });

  // POST /api/chats/:jid/stop: ends the turn at work in this chat. Its messages count as answered, so the next
  // turn does not take them up again; the chat hears that it was stopped.
  app.post('/api/chats/:jid/stop', (c) => {
    const jid = c.req.param('jid');
    const agent = deps.agents.get(jid);
    if (!agent?.inTurn)
      throw new ApiError('conflict', 'Nothing to stop: the assistant is not working on an answer in this chat.');
    if (!deps.feed.isTaskRun(jid)) deps.store.outbox.setCursor(jid, deps.store.messages.lastSeq(jid));
    deps.logger.info({ chat: jid, group: agent.group.folder }, 'turn stopped from the dashboard');
    const why = 'you stopped it from the dashboard';
    agent.kill(new AgentFailure(`sandbox stopped: ${why}`, why, false, false, STOPPED));
    return c.json({ stopped: true });
  });

  // GET /api/logs?lines=N: "line" events, the last N lines of the log first, then each new one as it is written.
  // The file is redacted as it is written; each line is again here, for a secret registered since.
  app.get('/api/logs', (c) => {
    const count = Math.min(Math.max(Number(c.req.query('lines') ?? 200) || 200, 1), 2000);
    return streamSSE(
      c,
      sse((send) => {
        const line = (raw: string) => {
          const l = logLine(raw);
          if (l) send({ event: 'line', data: redact(JSON.stringify(l)) });
        };
        const { lines, size } = tailLines(deps.logFile, count);
        lines.forEach(line);
        try {
          return followFile(deps.logFile, size, line);
        } catch (err) {
          const text = `Cannot follow ${deps.logFile}: ${(err as Error).message}. Reload when it can be read.`;
          send({
            event: 'line',
            data: JSON.stringify({ time: Date.now(), level: 'ERROR', group: null, chat: null, text }),
          });
          return () => {};
        }
      }),
    );
  });

  return app;
}
