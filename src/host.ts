// The host: wires store, channels, router, queue, agents, gateway, delivery and
// the local API together. Event-driven throughout: a stored message reaches the
// queue by a function call; a reply reaches its channel when the outbox is written.
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { AgentFailure, startAgent, type AgentDeps, type AgentJob, type LiveAgent } from './agent/agent.js';
import { createLocalChannel, isLocalOwner } from './channels/local/local.js';
import { CHANNELS, configuredChannels, type ChannelPlugin } from './channels/registry.js';
import { pluginInfo, type PluginInfo } from './channels/plugin.js';
import { APPROVE_PATTERN, folderForName, isDirectChat, pairingQueries } from './inbound/pairing.js';
import { loadSenderAllowlist } from './inbound/sender-allowlist.js';
import type { Config } from './config/config.js';
import { callsAssistant, conversationJob, pendingFor, type ConversationDeps } from './conversation/conversation.js';
import { createDelivery } from './outbox/delivery.js';
import { createDiskGuard } from './agent/disk-guard.js';
import { createCredentialSource } from './gateway/credentials.js';
import { createGateway } from './gateway/gateway.js';
import { ensureMainGroup, registerGroup, unregisterGroup } from './groups/registration.js';
import { ensureApiToken, ensureHome, homePaths } from './config/home.js';
import { createApi } from './web/api/app.js';
import { mountDashboard } from './web/dashboard/dashboard.js';
import { mountPairingApi } from './web/api/pairing.js';
import { allowlistMountCheck, mountGroupsApi } from './web/api/groups.js';
import { createLogger, type Logger } from './logger.js';
import { createGroupQueue, type Job } from './queue/group-queue.js';
import { selectRuntime } from './sandbox/runtimes.js';
import { openStore } from './store/index.js';
import type { StoredMessage } from './store/messages.js';
import { createToolHandler } from './tools/tools.js';
import { createScheduler, type Scheduler } from './scheduler/scheduler.js';
import { createTaskTools, type TaskDeps } from './tools/task-tools.js';
import { mountTasksApi } from './web/api/tasks.js';
import type { Channel, ChannelState, Message, RegisteredGroup, SandboxRuntime } from './types.js';
import type { Hono } from 'hono';

export interface HostOptions {
  config: Config;
  logger?: Logger;
  /** Platform channels to run besides the local one (default: those configured). */
  channels?: Channel[];
  /** The channel plugins (default: the registry's CHANNELS). */
  plugins?: readonly ChannelPlugin[];
  /** Use this runtime instead of selecting one (tests, bench). */
  runtime?: SandboxRuntime | null;
  /** Serve the HTTP API (default true). */
  listen?: boolean;
  /** Timing hooks for the bench. */
  onPromptDelivered?: AgentDeps['onPromptDelivered'];
  /** Extra API routes. */
  extendApi?: (app: Hono, host: Host) => void;
  /** The scheduler's clock (tests move it instead of waiting). */
  now?: () => number;
}

export interface Host {
  config: Config;
  paths: ReturnType<typeof homePaths>;
  store: ReturnType<typeof openStore>;
  logger: Logger;
  url: string;
  token: string;
  runtime: SandboxRuntime | null;
  runtimeProblems: string[];
  channels: Channel[];
  agents: Map<string, LiveAgent>;
  queue: ReturnType<typeof createGroupQueue>;
  scheduler: Scheduler;
  /** Hand a message to the host as if a channel received it. */
  receive(msg: Message, channel: Channel): number | null;
  /** Approve a pairing code (CLI, API). */
  approvePairing(code: string): { ok: true; value: RegisteredGroup } | { ok: false; error: string };
  pendingPairings(): ReturnType<ReturnType<typeof pairingQueries>['pending']>;
  subscribe(listener: (m: StoredMessage) => void): () => void;
  status(): HostStatus;
  stop(): Promise<void>;
}

export interface HostStatus {
  pid: number;
  startedAt: string;
  assistantName: string;
  runtime: string | null;
  problems: string[];
  credential: boolean;
  channels: { name: string; connected: boolean; detail?: string; linking?: ChannelState['linking'] }[];
  /** Every channel plugin, set up or not, with how to set it up and link it. */
  plugins: PluginInfo[];
  agents: { jid: string; folder: string; name: string; startedAt: string; tool: string | null }[];
  queue: { active: number; waiting: number };
  groups: number;
  lastError: { at: string; message: string; chatJid: string | null } | null;
}

const MAX_INBOUND_TEXT = 4 * 1024 * 1024;

/** Turns a storage failure into words a user can act on. */
export function storeProblem(err: unknown, dbFile: string): string {
  const code = String((err as { code?: string })?.code ?? '');
  const msg = (err as Error)?.message ?? String(err);
  if (/READONLY|EROFS|EACCES|EPERM/.test(code) || /readonly|read-only|permission/i.test(msg)) {
    return `${dbFile} is read-only (${code || msg}). Nothing was accepted or changed; make it writable for this user and try again.`;
  }
  if (/FULL|ENOSPC/.test(code) || /disk is full|no space/i.test(msg)) {
    return `The disk holding ${dbFile} is full (${code || msg}). Nothing was accepted or changed; free some space and try again.`;
  }
  if (/CORRUPT|NOTADB/.test(code)) {
    return `The message store ${dbFile} is damaged (${code}). Stop NanoClaw and restore store/messages.db from a backup.`;
  }
  return `The message store ${dbFile} failed: ${msg}`;
}

export async function startHost(opts: HostOptions): Promise<Host> {
  const { config } = opts;
  const paths = homePaths(config.home);
  try {
    ensureHome(paths, config.assistantName);
  } catch (err) {
    throw new Error(storeProblem(err, (err as NodeJS.ErrnoException).path ?? config.home));
  }
  const logger = opts.logger ?? createLogger({ level: config.logLevel, logsDir: paths.logs });
  const diskGuard = createDiskGuard({
    paths, logger, reserveBytes: config.diskReserveMb * 1024 * 1024, quotaBytes: config.groupQuotaMb * 1024 * 1024,
    notifyOwner: (text) => notifyOwner(text), running: () => agents.values(),
  });
  diskGuard.startup();
  let store: ReturnType<typeof openStore>;
  try {
    store = openStore(paths.db, { releaseSpace: diskGuard.releaseSpace });
  } catch (err) {
    throw new Error(storeProblem(err, paths.db));
  }
  const token = ensureApiToken(paths);
  ensureMainGroup({ store, paths, assistantName: config.assistantName });
  const startedAt = new Date().toISOString();

  let runtime: SandboxRuntime | null = null;
  let runtimeProblems: string[] = [];
  if (opts.runtime !== undefined) runtime = opts.runtime;
  else ({ runtime, problems: runtimeProblems } = await selectRuntime(config.runtime, { dataDir: paths.data, home: config.home, image: config.sandboxImage }));
  // Sandboxes a crashed run of this install left behind (never another install's).
  await runtime?.removeOrphans?.().catch((err) => runtimeProblems.push(`Could not remove old sandboxes: ${(err as Error).message}`));
  if (!config.credential) runtimeProblems.push('No Anthropic credential: set ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN) in the environment or in .env in ' + config.home + ', then restart.');

  const listeners = new Set<(m: StoredMessage) => void>();
  // Full-text indexing runs in batches shortly after messages arrive, off the ingest path.
  let indexTimer: NodeJS.Timeout | null = null;
  const scheduleIndex = () => {
    indexTimer ??= setTimeout(() => {
      indexTimer = null;
      try { store.messages.indexPending(); } catch (err) { logger.warn({ err: (err as Error).message }, 'full-text indexing failed; search will retry'); }
    }, 250);
  };
  const emit = (m: StoredMessage) => {
    scheduleIndex();
    for (const l of listeners) { try { l(m); } catch (err) { logger.warn({ err }, 'listener failed'); } }
  };
  const channelStates = new Map<string, ChannelState>();

  const local = createLocalChannel();
  const channels: Channel[] = [local];
  const notifyOwner = (text: string) => {
    // The first main chat whose channel is up hears it; the local one always is.
    const mains = store.groups.list().filter((g) => g.isMain);
    const target = mains.find((g) => g.jid !== 'local:main' && channels.find((c) => c.ownsJid(g.jid))?.isConnected()) ?? mains[0];
    if (!target) return;
    store.outbox.enqueue(target.jid, text, { kind: 'system' });
    delivery.kick();
  };
  const plugins = opts.plugins ?? CHANNELS;
  channels.push(...(opts.channels ?? await configuredChannels({ config, paths, store, logger, notifyOwner }, plugins)));
  const senders = loadSenderAllowlist(config.configDir);
  const pairing = pairingQueries(store);
  const agents = new Map<string, LiveAgent>();

  const delivery = createDelivery({ store, channels: () => channels, assistantName: config.assistantName, logger, onStored: emit, retryMs: Math.min(10_000, config.retryBaseMs * 2) });

  const setTyping = (jid: string, typing: boolean) => {
    const ch = channels.find((c) => c.ownsJid(jid));
    ch?.setTyping?.(jid, typing).catch(() => { /* typing is best effort */ });
  };

  const gateway = createGateway({
    upstream: config.anthropicBaseUrl,
    // OAuth tokens are refreshed here, on the host, when they near expiry.
    credential: createCredentialSource({ initial: config.credential, authDir: paths.auth, logger }).get,
    recordUsage: (u) => store.usage.record(u),
    logger,
  });

  const taskDeps: TaskDeps = { store, timezone: config.timezone, now: opts.now, onChange: () => scheduler.changed() };
  const tool = createToolHandler({ store, paths, assistantName: config.assistantName, timezone: config.timezone, onOutbox: () => delivery.kick(), tasks: createTaskTools(taskDeps) });

  const conversationDeps: ConversationDeps = {
    store,
    timezone: config.timezone,
    assistantName: config.assistantName,
    // Your own messages always count; others only if the sender allowlist says so.
    canTrigger: (_group, msg) => msg.fromMe || senders.canTrigger(msg.chatJid, msg.sender),
    onCommitted: () => delivery.kick(),
  };

  const agentDeps: AgentDeps = {
    config, paths, gateway, logger, tool, setTyping, onTurnStart: tool.beginTurn,
    runtime: runtime as SandboxRuntime,
    onPromptDelivered: opts.onPromptDelivered,
    currentGroup: (jid) => store.groups.get(jid),
  };

  /** Runs one agent job in the group's sandbox, tracked in `agents` (follow-ups, status, shutdown). */
  async function runAgent(group: RegisteredGroup, agentJob: AgentJob, onLive?: (live: LiveAgent) => void): Promise<void> {
    if (!runtime) throw new AgentFailure('no sandbox runtime', runtimeProblems.find((p) => /runtime|bubblewrap/i.test(p)) ?? 'no sandbox runtime is available', false, false);
    if (!config.credential) throw new AgentFailure('no credential', 'NanoClaw has no Anthropic credential (set ANTHROPIC_API_KEY in .env and restart)', false, false);
    // A chat over its folder quota, or the one that filled the disk, waits until space is freed.
    const diskFull = diskGuard.refusal(group);
    if (diskFull) throw new AgentFailure(`disk guard: ${diskFull}`, diskFull, false, false);
    const live = startAgent(agentDeps, group, agentJob);
    if (!live) return;
    agents.set(group.jid, live);
    onLive?.(live);
    try {
      await live.done;
    } catch (err) {
      if (err instanceof AgentFailure && err.sessionNotFound) {
        // The session cannot be resumed; the retry starts a fresh one.
        store.groups.clearSession(group.folder);
      }
      throw err;
    } finally {
      if (agents.get(group.jid) === live) agents.delete(group.jid);
      diskGuard.afterRun(group);
    }
  }

  async function run(jid: string, job: Job): Promise<void> {
    // A task run records its own outcome (run log, next run) and never throws.
    if (job.kind === 'task') return scheduler.runTask(job.taskId, runAgent);
    const group = store.groups.get(jid);
    if (!group) return;
    await runAgent(group, conversationJob(conversationDeps, group, store.groups.session(group.folder) ?? null));
    // An agent that closed early (a due task, changed memory) may leave follow-ups it never took.
    if (pendingFor(conversationDeps, group, store.outbox.cursor(jid)).triggered) queue.enqueueMessages(jid);
  }

  const queue = createGroupQueue({
    maxConcurrent: config.maxConcurrentAgents,
    retryBaseMs: config.retryBaseMs,
    maxRetries: config.maxRetries,
    logger,
    run,
    yieldFor: (jid) => agents.get(jid)?.close(),
    onGiveUp(jid, _job, err, tries) {
      const why = err instanceof AgentFailure ? err.userMessage : 'something went wrong';
      const text = `⚠️ I couldn't answer: ${why}. I tried ${tries} time${tries === 1 ? '' : 's'}. Your messages are kept; send another message to try again${/credential|runtime|bubblewrap|quota|disk/.test(why) ? ' once this is fixed' : ''}.`;
      store.usage.recordError(store.groups.get(jid)?.folder ?? null, jid, text);
      store.outbox.enqueue(jid, text, { kind: 'system' });
      delivery.kick();
    },
  });

  const scheduler = createScheduler({
    store, queue, logger, timezone: config.timezone, now: opts.now,
    // A run holds its claim at most one agent turn (plus a minute to start its sandbox).
    staleMs: config.agentTimeoutMs + 60_000,
    onOutbox: () => delivery.kick(),
  });

  function receive(msg: Message, channel: Channel): number | null {
    if (!msg || typeof msg.id !== 'string' || !msg.id || typeof msg.chatJid !== 'string' || typeof msg.text !== 'string') {
      logger.warn({ channel: channel.name }, 'dropped a malformed message from the channel');
      return null;
    }
    if (msg.text.length > MAX_INBOUND_TEXT) msg = { ...msg, text: msg.text.slice(0, MAX_INBOUND_TEXT) + '\n[message truncated: over 4 MB]' };
    // The platform's echo of a reply we sent: delivery already recorded it.
    if (msg.fromAssistant && channel !== local) return null;
    if (!msg.fromMe && !senders.keeps(msg.chatJid, msg.sender)) return null;
    const seq = store.messages.insert(msg, channel.name);
    if (seq === null) return null; // a duplicate event
    // Stored: from here on a failure must not make the sender think it was lost.
    try {
      route({ ...msg, seq }, channel);
    } catch (err) {
      logger.error({ err: (err as Error).message, chat: msg.chatJid }, 'routing a stored message failed; queueing its chat');
      if (store.groups.get(msg.chatJid)) queue.enqueueMessages(msg.chatJid);
    }
    return seq;
  }

  function route(msg: StoredMessage, channel: Channel): void {
    emit(msg);
    const group = store.groups.get(msg.chatJid);
    if (!group) {
      if (channel !== local && !msg.fromMe && isDirectChat(msg.chatJid, plugins)) offerPairing(msg, channel);
      return;
    }
    if (group.isMain && !msg.fromAssistant && APPROVE_PATTERN.test(msg.text) && approve(msg, msg.seq)) return;
    if (msg.fromAssistant || !callsAssistant(conversationDeps, group, msg)) return;
    if (agents.get(group.jid)?.wake()) return;
    queue.enqueueMessages(group.jid);
  }

  /** A stranger wrote in a direct chat: give them a code and tell the owner. */
  function offerPairing(msg: Message, channel: Channel): void {
    const req = pairing.request(channel.name, msg.chatJid, msg.sender, msg.senderName);
    if (!req) { logger.warn({ chat: msg.chatJid }, 'pairing: too many codes waiting; ignoring a new stranger'); return; }
    if (!req.isNew) return;
    store.outbox.enqueue(msg.chatJid, `Hi! I'm ${config.assistantName}, a personal assistant. To talk with me, ask my owner to approve the code ${req.code} (valid for one hour).`, { kind: 'system' });
    notifyOwner(`${msg.senderName || msg.sender} (${msg.chatJid}, ${channel.name}) wants to talk to you. Reply "approve ${req.code}" to let them; the code expires in an hour.`);
  }

  /** "approve 4F7K2Q" in a main chat: register the stranger's chat. Answers false if it is not a pending code. */
  function approve(msg: Message, seq: number): boolean {
    const code = APPROVE_PATTERN.exec(msg.text)![1].toUpperCase();
    const res = approvePairing(code);
    const reply = res.ok ? `Approved: ${res.value.name} can now talk to me (folder ${res.value.folder}).` : `Not approved: ${res.error}`;
    // Answered here, not by the agent: if nothing else waits, the cursor moves with the reply.
    if (pendingFor(conversationDeps, store.groups.get(msg.chatJid)!, store.outbox.cursor(msg.chatJid)).messages.length <= 1) {
      store.outbox.commitTurn({ chatJid: msg.chatJid, upToSeq: seq, reply });
    } else store.outbox.enqueue(msg.chatJid, reply, { kind: 'system' });
    delivery.kick();
    return true;
  }

  function approvePairing(code: string) {
    const req = pairing.approve(code);
    if (!req) return { ok: false as const, error: `there is no waiting code ${code} (codes expire after an hour).` };
    const folder = folderForName(req.senderName || req.sender, (f) => !!store.groups.byFolder(f) || f === 'main');
    const res = registerGroup({ store, paths, assistantName: config.assistantName }, { jid: req.chatJid, name: req.senderName || req.sender, folder, requiresTrigger: false });
    if (res.ok) {
      store.outbox.enqueue(req.chatJid, `You're approved — I'm ${config.assistantName}. How can I help?`, { kind: 'system' });
      delivery.kick();
    }
    return res;
  }

  for (const ch of channels) {
    await ch.connect({
      onMessage: (m) => receive(m, ch),
      onChat: (info) => store.messages.upsertChat(info),
      onState: (s) => {
        channelStates.set(ch.name, s);
        if (s.connected) { registerSelfChat(ch); delivery.kick(); }
      },
    }).catch((err) => {
      channelStates.set(ch.name, { connected: false, detail: (err as Error).message });
      logger.error({ channel: ch.name, err: (err as Error).message }, 'channel failed to connect');
    });
  }

  /** Once WhatsApp is linked, the user's own self-chat is a main chat too. */
  function registerSelfChat(ch: Channel): void {
    const self = ch.selfJid?.();
    if (!self || store.groups.get(self)) return;
    store.groups.insert({
      jid: self, name: `${ch.name} self-chat`, folder: `main-${ch.name}`.slice(0, 64), trigger: `@${config.assistantName}`,
      requiresTrigger: false, isMain: true, sandbox: {}, addedAt: new Date().toISOString(),
    });
    logger.info({ jid: self }, 'registered the self-chat as a main chat');
  }

  // Recovery: anything accepted but not answered before the last stop runs again.
  for (const group of store.groups.list()) {
    if (pendingFor(conversationDeps, group, store.outbox.cursor(group.jid)).triggered) queue.enqueueMessages(group.jid);
  }
  delivery.kick();
  scheduler.start();

  const status = (): HostStatus => {
    const last = store.usage.recentErrors(1)[0];
    const senderProblem = senders.problem();
    return {
      pid: process.pid,
      startedAt,
      assistantName: config.assistantName,
      runtime: runtime?.name ?? null,
      problems: senderProblem ? [...runtimeProblems, senderProblem] : runtimeProblems,
      credential: !!config.credential,
      channels: channels.map((c) => ({ name: c.name, connected: c.isConnected(), detail: channelStates.get(c.name)?.detail, linking: channelStates.get(c.name)?.linking })),
      plugins: plugins.map(pluginInfo),
      agents: [...agents.values()].map((a) => ({ jid: a.group.jid, folder: a.group.folder, name: a.group.name, startedAt: new Date(a.startedAt).toISOString(), tool: a.currentTool })),
      queue: { active: queue.activeCount(), waiting: queue.waitingCount() },
      groups: store.groups.list().length,
      lastError: last ? { at: last.at, message: last.message, chatJid: last.chatJid } : null,
    };
  };

  const host: Host = {
    config, paths, store, logger, token, runtime, runtimeProblems, channels, agents, queue, scheduler,
    url: '',
    receive,
    approvePairing: (code) => approvePairing(code.toUpperCase()),
    pendingPairings: () => pairing.pending(),
    subscribe: (l) => { listeners.add(l); return () => listeners.delete(l); },
    status,
    stop: async () => {},
  };

  let server: ServerType | null = null;
  if (opts.listen !== false) {
    const app = createApi({
      store,
      token,
      storeProblem: (err) => storeProblem(err, paths.db),
      injectLocal: ({ chatJid, sender, senderName, text }) => {
        const id = `local-${Date.now().toString(36)}-${crypto.randomBytes(6).toString('hex')}`;
        receive({ id, chatJid, sender, senderName, text, timestamp: new Date().toISOString(), fromMe: isLocalOwner(sender), fromAssistant: false }, local);
        return { id };
      },
      subscribe: host.subscribe,
      register: (input) => registerGroup({ store, paths, assistantName: config.assistantName }, input as any),
      unregister: (jid) => unregisterGroup({ store }, jid),
      status,
      extend: (app) => {
        mountGroupsApi(app, { store, checkMounts: allowlistMountCheck(config.configDir, config.home) });
        mountPairingApi(app, host);
        mountDashboard(app, { status, recentErrors: (n) => store.usage.recentErrors(n) });
        mountTasksApi(app, taskDeps);
        opts.extendApi?.(app, host);
      },
    });
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.httpPort, hostname: config.httpHost }, () => resolve(s));
      s.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE'
        ? new Error(`Port ${config.httpPort} on ${config.httpHost} is in use: is NanoClaw already running? Stop it or set NANOCLAW_HTTP_PORT.`)
        : err));
    });
    const addr = server.address() as AddressInfo;
    host.url = `http://${config.httpHost}:${addr.port}`;
  }

  host.stop = async () => {
    if (indexTimer) clearTimeout(indexTimer);
    scheduler.stop();
    diskGuard.stop();
    queue.stop();
    delivery.stop();
    for (const a of agents.values()) a.kill('NanoClaw is shutting down');
    await Promise.allSettled([...agents.values()].map((a) => a.done));
    await scheduler.idle();
    if (server) {
      (server as any).closeAllConnections?.();
      await new Promise<void>((r) => server!.close(() => r()));
    }
    for (const ch of channels) await ch.disconnect().catch(() => {});
    store.close();
    logger.flush?.();
  };
  return host;
}
