// The composition root: opens the store, builds the core's parts, gives the plugins it is handed the running
// core, starts, and stops in order. It only wires; every part lives in its own file.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Hono } from 'hono';
import { noApprover, type Approver } from './ask.js';
import type { LiveAgent } from './agent/agent.js';
import { createAgentRunner, createJobRunner, enqueueUnanswered, sessionReset, tellGaveUp } from './agent/run.js';
import { createApi } from './api/app.js';
import { allowlistMountCheck } from './api/groups.js';
import { listen } from './api/serve.js';
import { createLocalChannel, localMessage } from './channels/local/local.js';
import { localPlugin } from './channels/local/plugin.js';
import type { ChannelPlugin } from './channels/plugin.js';
import { configuredChannels, typingVia } from './channels/registry.js';
import type { Config } from './config/config.js';
import { setEnvValues } from './config/env-file.js';
import { ensureApiToken, ensureHome, homePaths } from './config/home.js';
import type { ConversationDeps } from './conversation/conversation.js';
import { createDelivery } from './delivery/delivery.js';
import { createOwnerNotice } from './delivery/owner-notice.js';
import { createCredentialSource } from './gateway/credentials.js';
import { createGateway } from './gateway/gateway.js';
import { ensureMainGroup, registerGroup, registerSelfChat, unregisterGroup, type RegisterInput } from './groups/registration.js';
import { createMessageFeed } from './inbound/feed.js';
import { createInbound, type InboundDecision } from './inbound/receive.js';
import { loadSenderAllowlist } from './inbound/sender-allowlist.js';
import { createLogger, type Logger } from './logger.js';
import type { Plugin, PluginCore, PluginParts } from './plugin.js';
import { createGroupQueue, type GroupQueue } from './queue/group-queue.js';
import { prepareRuntime } from './sandbox/runtimes.js';
import { createStatus, type HostStatus } from './status.js';
import { openStore, type Store } from './store/index.js';
import type { StoredMessage } from './store/messages.js';
import { storeProblem } from './store/problem.js';
import { createToolHandler } from './tools/tools.js';
import type { Channel, ChannelState, Message, SandboxRuntime } from './types.js';

export interface HostOptions {
  config: Config;
  logger?: Logger;
  /** Chat-app channels to run besides the local one (default: those configured). */
  channels?: Channel[];
  /** The chat apps the host knows (default: the local chat and each plugin's). */
  channelPlugins?: readonly ChannelPlugin[];
  /** Use this runtime instead of selecting one (tests, bench). */
  runtime?: SandboxRuntime | null;
  /** Serve the HTTP API (default true). */
  listen?: boolean;
  onPromptDelivered?(groupFolder: string, kind: 'cold' | 'warm'): void;
  /** What became of each inbound message (tests, tracing). */
  onRouted?(msg: Message, decision: InboundDecision): void;
  /** Extra API routes (tests). */
  extendApi?(app: Hono, host: Host): void;
  /** The clock of the plugins that schedule (tests move it instead of waiting). */
  now?: () => number;
  /** DNS for the network policy (tests answer names without a network). */
  resolve?: (host: string) => Promise<string[]>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- what plugins expose (declaration merging)
export interface HostExtensions {}

export type Host = HostExtensions & {
  config: Config; paths: ReturnType<typeof homePaths>; store: Store; logger: Logger; url: string; token: string;
  runtime: SandboxRuntime | null; runtimeProblems: string[]; channels: Channel[]; agents: Map<string, LiveAgent>;
  queue: GroupQueue;
  /** Hand a message to the host as if a channel received it. */
  receive(msg: Message, channel: Channel): number | null;
  subscribe(listener: (m: StoredMessage) => void): () => void;
  status(): HostStatus;
  stop(): Promise<void>;
};

const explain = <T>(what: string, fn: () => T): T => {
  try {
    return fn();
  } catch (err) {
    throw new Error(storeProblem(err, (err as NodeJS.ErrnoException).path ?? what));
  }
};

export async function startCore(opts: HostOptions, plugins: readonly Plugin[]): Promise<Host> {
  const { config } = opts;
  const paths = homePaths(config.home);
  explain(config.home, () => ensureHome(paths, config.assistantName));
  const logger = opts.logger ?? createLogger({ level: config.logLevel, logsDir: paths.logs });
  const parts: PluginParts[] = [];
  const all = <K extends keyof PluginParts>(k: K) => parts.flatMap((p) => (p[k] ? [p[k]!] : []));
  const extend = plugins.flatMap((p) => (p.store ? [p.store] : []));
  const releaseSpace = () => all('releaseSpace').some((release) => release());
  const store = explain(paths.db, () => openStore(paths.db, { extend, releaseSpace }));
  const token = ensureApiToken(paths);
  ensureMainGroup({ store, paths, assistantName: config.assistantName });
  const runtimes = Object.assign({}, ...plugins.map((p) => p.runtimes ?? {}));
  const { runtime, problems: runtimeProblems } = await prepareRuntime(config, paths, opts.runtime, runtimes);

  const feed = createMessageFeed({ store, logger });
  const local = createLocalChannel();
  const channels: Channel[] = [local];
  const channelStates = new Map<string, ChannelState>();
  const notifyOwner = createOwnerNotice(store, channels);
  const channelPlugins = opts.channelPlugins ?? [localPlugin, ...plugins.flatMap((p) => (p.channel ? [p.channel] : []))];
  const channelCtx = { config, paths, store, logger, notifyOwner };
  channels.push(...(opts.channels ?? (await configuredChannels(channelCtx, channelPlugins))));
  const senders = loadSenderAllowlist(config.configDir);
  const agents = new Map<string, LiveAgent>();
  const delivery = createDelivery({
    store, channels: () => channels, assistantName: config.assistantName, logger, onStored: feed.emit,
    retryMs: Math.min(10_000, config.retryBaseMs * 2),
  });
  // Every committed outbox write wakes delivery; no writer has to remember to.
  store.outbox.onWrite(() => delivery.kick());
  const conversation: ConversationDeps = {
    store, timezone: config.timezone, assistantName: config.assistantName,
    // Your own messages always count; others only if the sender allowlist says so.
    canTrigger: (_group, msg) => msg.fromMe || senders.canTrigger(msg.chatJid, msg.sender),
  };
  let runJob: ReturnType<typeof createJobRunner> = async () => {};
  const queue = createGroupQueue({
    maxConcurrent: config.maxConcurrentAgents, retryBaseMs: config.retryBaseMs, maxRetries: config.maxRetries, logger,
    run: (jid, job) => runJob(jid, job),
    yieldFor: (jid) => agents.get(jid)?.close(),
    onGiveUp: (jid, _job, err, tries) => all('onGiveUp').forEach((f) => f(jid, tellGaveUp(store, jid, err, tries))),
  });
  const approver: Approver = new Proxy(noApprover, { get: (base, k: keyof Approver) => (all('approver')[0] ?? base)[k] });
  let inbound: ReturnType<typeof createInbound> | null = null;
  const receive = (msg: Message, ch: Channel) => inbound?.receive(msg, { name: ch.name, isLocal: ch === local }).seq ?? null;
  const status = createStatus({
    store, assistantName: config.assistantName, hasCredential: !!config.credential, runtime, runtimeProblems,
    senderProblem: senders.problem, channels, channelStates, agents, queue, plugins: channelPlugins,
    extra: () => Object.assign({}, ...all('status').map((s) => s())),
  });
  const core: PluginCore = {
    config, paths, store, logger, channels, channelPlugins, agents, queue, conversation, runtime, notifyOwner,
    approver, resetSession: sessionReset(store, agents), receive, status, ownPorts: new Set(), now: opts.now,
    resolve: opts.resolve,
  };
  for (const plugin of plugins) {
    const got = await plugin.setup?.(core);
    if (got) parts.push(got);
  }

  const tool = createToolHandler({
    store, paths, assistantName: config.assistantName, timezone: config.timezone, tools: all('tools').flat(),
    approve: approver.forTool,
  });
  const credential = createCredentialSource({ initial: config.credential, authDir: paths.auth, logger }).get;
  const gateway = createGateway({
    upstream: config.anthropicBaseUrl, credential, logger, ownPorts: core.ownPorts, hooks: all('gateway'), approver,
  });
  const runAgent = createAgentRunner({
    runtime, runtimeProblems, hasCredential: !!config.credential, store, agents,
    refuse: (group) => all('refuseRun').reduce<string | null>((why, f) => why ?? f(group), null),
    afterRun: (group) => all('afterRun').forEach((f) => f(group)),
    agent: {
      config, paths, gateway, logger, tool, setTyping: typingVia(channels), onPromptDelivered: opts.onPromptDelivered,
      currentGroup: (jid) => store.groups.get(jid), sandbox: all('sandbox'),
    },
  });
  runJob = createJobRunner({ store, conversation, runAgent, runTask: (id, run) => all('runTask')[0]?.(id, run) ?? Promise.resolve() });
  inbound = createInbound({
    store, logger, conversation, senders, steps: all('inbound').flat(), emit: feed.emit, onRouted: opts.onRouted,
    wake: (jid) => !!agents.get(jid)?.wake(), enqueue: queue.enqueueMessages,
  });
  // A plugin may turn a message into another before it is routed (a voice note into its transcript).
  const arrive = (ch: Channel, msg: Message) =>
    all('receive').reduceRight<(m: Message) => void>((next, wrap) => (m) => wrap(m, next), (m) => void receive(m, ch))(msg);
  for (const ch of channels) {
    await ch
      .connect({
        onMessage: (m) => arrive(ch, m),
        onChat: (info) => store.messages.upsertChat(info),
        onButton: async (press) => {
          for (const answer of all('onButton')) { const a = await answer(press); if (a) return a; }
          return { notice: 'This button no longer does anything.' };
        },
        onState: (s) => {
          channelStates.set(ch.name, s);
          if (!s.connected) return;
          registerSelfChat({ store, assistantName: config.assistantName, logger }, ch);
          delivery.kick();
        },
      })
      .catch((err) => {
        channelStates.set(ch.name, { connected: false, detail: (err as Error).message });
        logger.error({ channel: ch.name, err: (err as Error).message }, 'channel failed to connect');
      });
  }

  // Recovery: anything accepted but not answered before the last stop runs again.
  enqueueUnanswered(store, conversation, queue.enqueueMessages);
  delivery.kick();
  all('start').forEach((start) => start());

  let server: Server | null = null;
  // Everything stops taking work first (a task run cut short is then given back, not failed), then the agents go,
  // then what they were writing to.
  const stop = async (): Promise<void> => {
    feed.stop();
    for (const drain of all('drain').reverse()) await drain();
    queue.stop();
    delivery.stop();
    for (const a of agents.values()) a.kill('NanoClaw is shutting down');
    await Promise.allSettled([...agents.values()].map((a) => a.done));
    for (const end of all('stop').reverse()) await end();
    server?.closeAllConnections();
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    for (const ch of channels) await ch.disconnect().catch(() => {});
    store.close();
    logger.flush?.();
  };
  const host = Object.assign({}, ...all('expose'), {
    config, paths, store, logger, token, runtime, runtimeProblems, channels, agents, queue, url: '', receive, status,
    stop, subscribe: feed.subscribe,
  }) as Host;

  if (opts.listen !== false) {
    const app = createApi({
      store, token, status, subscribe: feed.subscribe, typing: local,
      storeProblem: (err) => storeProblem(err, paths.db),
      injectLocal: (input) => {
        const msg = localMessage(input);
        receive(msg, local);
        return { id: msg.id };
      },
      // registerGroup checks every field itself: the body is only shaped like its input.
      register: (input) => registerGroup({ store, paths, assistantName: config.assistantName }, input as unknown as RegisterInput),
      unregister: (jid) => unregisterGroup({ store }, jid),
      checkMounts: allowlistMountCheck(config.configDir, config.home),
      channels: {
        plugins: channelPlugins, env: () => ({ config, paths, env: config.env }),
        saveEnv: (values) => setEnvValues(config.home, values), running: () => channels.map((c) => c.name),
      },
      extend: (app) => {
        all('api').forEach((add) => add(app));
        opts.extendApi?.(app, host);
      },
    });
    server = (await listen(app.fetch, config)) as unknown as Server;
    core.ownPorts.add((server.address() as AddressInfo).port);
    host.url = `http://${config.httpHost}:${(server.address() as AddressInfo).port}`;
  }
  return host;
}
