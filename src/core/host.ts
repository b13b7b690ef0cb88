// The composition root: opens the store, builds the core's parts, gives the plugins it is handed the running
// core, starts, and stops in order. It only wires; every part lives in its own file.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Hono } from 'hono';
import { noApprover, type Approver } from './ask.js';
import type { LiveAgent } from './agent/agent.js';
import { createAgentRunner, createJobRunner, enqueueUnanswered, sessionReset, tellGaveUp } from './agent/run.js';
import { hostApi } from './api/app.js';
import type { SettingsCheck } from './api/groups.js';
import { listen } from './api/serve.js';
import { createLocalChannel } from './channels/local/local.js';
import { localPlugin } from './channels/local/plugin.js';
import type { ChannelPlugin } from './channels/plugin.js';
import { configuredChannels, connectAll, typingVia } from './channels/registry.js';
import type { Config } from './config/config.js';
import { ensureApiToken, ensureHome, homePaths } from './config/home.js';
import { createDelivery } from './delivery/delivery.js';
import { createOwnerNotice } from './delivery/owner-notice.js';
import { createGateway } from './gateway/gateway.js';
import { ensureMainGroup, registerSelfChat } from './groups/registration.js';
import { createMessageFeed } from './inbound/feed.js';
import { createInbound, type InboundDecision } from './inbound/receive.js';
import { loadSenderAllowlist } from './inbound/sender-allowlist.js';
import { createLogger, type Logger } from './logger.js';
import type { Plugin, PluginCore, PluginParts } from './plugin.js';
import { createGroupQueue, type GroupQueue } from './queue/group-queue.js';
import { prepareRuntime } from './sandbox/runtimes.js';
import { createStatus } from './status.js';
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

export type Host = HostExtensions &
  Pick<PluginCore, 'config' | 'paths' | 'store' | 'logger' | 'runtime' | 'receive' | 'status'> & {
    url: string;
    token: string;
    runtimeProblems: string[];
    channels: Channel[];
    agents: Map<string, LiveAgent>;
    queue: GroupQueue;
    subscribe(listener: (m: StoredMessage) => void): () => void;
    stop(): Promise<void>;
  };

const explained = <T>(where: string, open: () => T): T => {
  try {
    return open();
  } catch (err) {
    throw new Error(storeProblem(err, (err as NodeJS.ErrnoException).path ?? where));
  }
};

export async function startCore(opts: HostOptions, plugins: readonly Plugin[]): Promise<Host> {
  const { config } = opts;
  const { assistantName, timezone } = config;
  const paths = homePaths(config.home);
  explained(config.home, () => ensureHome(paths, assistantName));
  const logger = opts.logger ?? createLogger({ level: config.logLevel, logsDir: paths.logs });
  const parts: PluginParts[] = [];
  const all = <K extends keyof PluginParts>(k: K) => parts.flatMap((p) => (p[k] ? [p[k]!] : []));
  const extend = plugins.flatMap((p) => (p.store ? [p.store] : []));
  const releaseSpace = () => all('releaseSpace').some((release) => release());
  const store: Store = explained(paths.db, () => openStore(paths.db, { extend, releaseSpace }));
  const token = ensureApiToken(paths);
  ensureMainGroup({ store, paths, assistantName });
  const more = Object.assign({}, ...plugins.map((p) => p.runtimes ?? {}));
  const { runtime, problems: runtimeProblems } = await prepareRuntime(config, paths, opts.runtime, more);

  const feed = createMessageFeed({ store, logger });
  const local = createLocalChannel();
  const channels: Channel[] = [local];
  const channelStates = new Map<string, ChannelState>();
  const notifyOwner = createOwnerNotice(store, channels);
  const channelPlugins = opts.channelPlugins ?? [
    localPlugin,
    ...plugins.flatMap((p) => (p.channel ? [p.channel] : [])),
  ];
  const ctx = { config, paths, store, logger, notifyOwner };
  channels.push(...(opts.channels ?? (await configuredChannels(ctx, channelPlugins))));
  const senders = loadSenderAllowlist(config.configDir);
  const agents = new Map<string, LiveAgent>();
  const retryMs = Math.min(10_000, config.retryBaseMs * 2);
  const delivery = createDelivery({
    store,
    logger,
    assistantName,
    channels: () => channels,
    onStored: feed.emit,
    retryMs,
  });
  // Every committed outbox write wakes delivery; no writer has to remember to.
  store.outbox.onWrite(() => delivery.kick());
  // Your own messages always count; others only if the sender allowlist says so.
  const canTrigger = (_: unknown, msg: Message) => msg.fromMe || senders.canTrigger(msg.chatJid, msg.sender);
  const conversation = { store, timezone, assistantName, canTrigger };
  let runJob: ReturnType<typeof createJobRunner> = async () => {};
  const queue = createGroupQueue({
    ...config,
    maxConcurrent: config.maxConcurrentAgents,
    logger,
    run: (jid, job) => runJob(jid, job),
    yieldFor: (jid) => agents.get(jid)?.close(),
    onGiveUp: (jid, _job, err, tries) => all('onGiveUp').forEach((f) => f(jid, tellGaveUp(store, jid, err, tries))),
  });
  const approver: Approver = new Proxy(noApprover, {
    get: (base, k: keyof Approver) => (all('approver')[0] ?? base)[k],
  });
  const status = createStatus({
    ...{ store, assistantName, hasCredential: !!config.credential, runtime, runtimeProblems, channels, channelStates },
    ...{ agents, queue, plugins: channelPlugins, senderProblem: senders.problem },
    extra: () => Object.assign({}, ...all('status').map((s) => s())),
  });
  let inbound: ReturnType<typeof createInbound> | null = null;
  const receive = (msg: Message, ch: Channel) =>
    inbound?.receive(msg, { name: ch.name, isLocal: ch === local }).seq ?? null;
  const resetSession = sessionReset(store, agents);
  const core: PluginCore = {
    ...{ ...ctx, channels, channelPlugins, agents, queue, conversation, runtime, approver, resetSession, receive },
    ...{ status, ownPorts: new Set<number>(), now: opts.now, resolve: opts.resolve },
  };
  for (const plugin of plugins) parts.push((await plugin.setup?.(core)) ?? {});

  const tools = all('tools').flat();
  const tool = createToolHandler({ store, paths, assistantName, timezone, tools, approve: approver.forTool });
  const credential = all('credential')[0] ?? (() => config.credential);
  const { anthropicBaseUrl: upstream } = config;
  const gateway = createGateway({
    upstream,
    credential,
    logger,
    ownPorts: core.ownPorts,
    hooks: all('gateway'),
    approver,
  });
  const runAgent = createAgentRunner({
    ...{ runtime, runtimeProblems, hasCredential: !!config.credential, store, agents },
    refuse: (group) => all('refuseRun').reduce<string | null>((why, f) => why ?? f(group), null),
    afterRun: (group) => all('afterRun').forEach((f) => f(group)),
    agent: {
      ...{ config, paths, gateway, logger, tool, setTyping: typingVia(channels), sandbox: all('sandbox') },
      ...{ onPromptDelivered: opts.onPromptDelivered, currentGroup: (jid: string) => store.groups.get(jid) },
    },
  });
  const runTask = (id: string, run: Parameters<NonNullable<PluginParts['runTask']>>[1]) =>
    all('runTask')[0]?.(id, run) ?? Promise.resolve();
  runJob = createJobRunner({ store, conversation, runAgent, runTask });
  inbound = createInbound({
    ...{ store, logger, conversation, senders, steps: all('inbound').flat(), emit: feed.emit },
    ...{ onRouted: opts.onRouted, wake: (jid: string) => !!agents.get(jid)?.wake(), enqueue: queue.enqueueMessages },
  });
  // A plugin may turn a message into another before it is routed (a voice note into its transcript).
  const arrive = (ch: Channel) =>
    all('receive').reduceRight<(m: Message) => void>(
      (next, wrap) => (m) => wrap(m, next),
      (m) => receive(m, ch),
    );
  await connectAll(
    channels,
    (ch) => ({
      onMessage: arrive(ch),
      onChat: (info) => store.messages.upsertChat(info),
      onButton: async (press) => {
        for (const answer of all('onButton')) {
          const said = await answer(press);
          if (said) return said;
        }
        return { notice: 'This button no longer does anything.' };
      },
      onState: (s) => {
        channelStates.set(ch.name, s);
        if (!s.connected) return;
        registerSelfChat({ store, assistantName, logger }, ch);
        delivery.kick();
      },
    }),
    channelStates,
    logger,
  );

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
  const own = {
    config,
    paths,
    store,
    logger,
    token,
    runtime,
    runtimeProblems,
    channels,
    agents,
    queue,
    receive,
    status,
  };
  const host: Host = Object.assign({}, ...all('expose'), { ...own, url: '', stop, subscribe: feed.subscribe });
  if (opts.listen === false) return host;
  const extendApi = (app: Hono) => {
    all('api').forEach((add) => add(app));
    opts.extendApi?.(app, host);
  };
  const checkSettings: SettingsCheck = async (group, changed) => {
    for (const check of all('checkSettings')) {
      const problem = await check(group, changed);
      if (problem) return problem;
    }
    return null;
  };
  const app = hostApi({ ...own, local, subscribe: feed.subscribe, checkSettings, extend: extendApi });
  server = (await listen(app.fetch, config)) as unknown as Server;
  core.ownPorts.add((server.address() as AddressInfo).port);
  host.url = `http://${config.httpHost}:${(server.address() as AddressInfo).port}`;
  return host;
}
