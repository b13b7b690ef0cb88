// The composition root: it only wires; every part lives in its own file.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Hono } from 'hono';
import type { LiveAgent } from './agent/agent.js';
import { createJobRunner, enqueueUnanswered, sessionReset, tellGaveUp } from './agent/run.js';
import { hostApi } from './api/app.js';
import { listen } from './api/serve.js';
import { createLocalChannel } from './channels/local/local.js';
import { localPlugin } from './channels/local/plugin.js';
import { configuredChannels, connectAll, typingVia } from './channels/registry.js';
import { ensureApiToken, ensureHome, homePaths } from './config/home.js';
import { createDelivery } from './delivery/delivery.js';
import { createOwnerNotice } from './delivery/owner-notice.js';
import { createGateway } from './gateway/gateway.js';
import { ensureMainGroup, registerSelfChat } from './groups/registration.js';
import { createMessageFeed } from './inbound/feed.js';
import { createInbound } from './inbound/receive.js';
import { createLogger } from './logger.js';
import type { Host, HostOptions } from './host-types.js';
import { noApprover } from './ask.js';
import { combine } from './parts.js';
import { gather, type Plugin, type PluginCore, type PluginParts } from './plugin.js';
import { createGroupQueue } from './queue/group-queue.js';
import { prepareRuntime } from './sandbox/runtimes.js';
import { createStatus } from './status.js';
import { openStore } from './store/index.js';
import { explained } from './store/problem.js';
import { createToolHandler } from './tools/tools.js';
import type { Channel, ChannelState, Message } from './types.js';

export async function startCore(opts: HostOptions, plugins: readonly Plugin[]): Promise<Host> {
  const { config } = opts;
  const { assistantName, timezone } = config;
  const paths = homePaths(config.home);
  explained(config.home, () => ensureHome(paths, assistantName));
  const logger = opts.logger ?? createLogger({ level: config.logLevel, logsDir: paths.logs });
  const parts: PluginParts[] = [];
  const plug = combine(parts);
  const brought = gather(plugins, localPlugin);
  const store = explained(paths.db, () =>
    openStore(paths.db, { parts: brought.parts, releaseSpace: plug.releaseSpace }),
  );
  const token = ensureApiToken(paths);
  ensureMainGroup({ store, paths, assistantName });
  const { runtime, problems: runtimeProblems } = await prepareRuntime(config, paths, opts.runtime, brought.runtimes);

  const feed = createMessageFeed({ logger });
  const local = createLocalChannel();
  const channels: Channel[] = [local];
  const channelStates = new Map<string, ChannelState>();
  const notifyOwner = createOwnerNotice(store, channels);
  const channelPlugins = opts.channelPlugins ?? brought.channels;
  const ctx = { config, paths, store, logger, notifyOwner, media: brought.media?.({ store, paths }) };
  channels.push(...(opts.channels ?? (await configuredChannels(ctx, channelPlugins))));
  const agents = new Map<string, LiveAgent>();
  const delivery = createDelivery({
    ...{ store, logger, assistantName, onStored: feed.emit, channels: () => channels },
    ...{ retryMs: Math.min(10_000, config.retryBaseMs * 2), pace: plug.pace },
  });
  store.outbox.onWrite(() => delivery.kick());
  const conversation = { store, timezone, assistantName, canTrigger: plug.canTrigger };
  let runJob: ReturnType<typeof createJobRunner> = async () => {};
  const queue = createGroupQueue({
    ...{ ...config, maxConcurrent: config.maxConcurrentAgents, logger, run: (jid, job) => runJob(jid, job) },
    yieldFor: (jid) => agents.get(jid)?.close(),
    idleSince: (jid) => agents.get(jid)?.idleSince ?? null,
    onGiveUp: (jid, _job, err, tries) => plug.onGiveUp(jid, tellGaveUp(store, jid, err, tries)),
  });
  const approver = plug.approver(noApprover((jid) => store.groups.get(jid)));
  const status = createStatus({
    ...{ config, store, runtime, runtimeProblems, channels, channelStates, agents, queue },
    ...{ problems: plug.problems, extra: plug.status },
  });
  let inbound: ReturnType<typeof createInbound> | null = null;
  const receive = (msg: Message, ch: Channel) =>
    inbound?.receive(msg, { name: ch.name, isLocal: ch === local }).seq ?? null;
  const resetSession = sessionReset(store, agents);
  const core: PluginCore = {
    ...{ ...ctx, channels, channelPlugins, agents, queue, conversation, runtime, approver, resetSession, receive },
    ...{ status, ownPorts: new Set<number>(), now: opts.now, resolve: opts.resolve, checkSettings: plug.checkSettings },
    subscribe: feed.subscribe,
    connect: (ch) => connectAll([ch], events, channelStates, logger),
  };
  for (const plugin of plugins) parts.push((await plugin.setup?.(core)) ?? {});

  const tools = plug.all('tools').flat();
  const tool = createToolHandler({ store, paths, assistantName, tools, approve: approver.forTool, media: ctx.media });
  const gateway = createGateway({
    ...{ upstream: config.anthropicBaseUrl, credential: plug.credential(config.credential), logger, approver },
    ...{ ownPorts: core.ownPorts, hooks: plug.all('gateway') },
  });
  runJob = createJobRunner({
    ...{ runtime, runtimeProblems, conversation, agents },
    ...{ refuseRun: plug.refuseRun, afterRun: plug.afterRun, runTask: plug.runTask },
    agent: {
      ...{ config, paths, gateway, logger, tool, setTyping: typingVia(channels), sandbox: plug.all('sandbox') },
      ...{ onPromptDelivered: opts.onPromptDelivered, currentGroup: (jid: string) => store.groups.get(jid) },
      ...{ onIdle: () => queue.makeRoom(), keepIdle: plug.keepIdle },
    },
  });
  inbound = createInbound({
    ...{ store, logger, conversation, steps: plug.all('inbound').flat(), emit: feed.emit },
    ...{ onRouted: opts.onRouted, wake: (jid: string) => !!agents.get(jid)?.wake(), enqueue: queue.enqueueMessages },
  });
  const onConnected = (ch: Channel) => [registerSelfChat({ store, assistantName, logger }, ch), delivery.kick()];
  const onMessage = (ch: Channel) => plug.arrive((m) => receive(m, ch));
  const onChat = store.messages.upsertChat;
  const events = { onMessage, onChat, onButton: plug.onButton, onConnected };
  await connectAll(channels, events, channelStates, logger);

  // Recovery: anything accepted but not answered before the last stop runs again.
  enqueueUnanswered(conversation, queue.enqueueMessages);
  delivery.kick();
  plug.start();

  let server: Server | null = null;
  // Work stops first (a task run cut short is then given back, not failed), then the agents, then what they wrote to.
  const stop = async (): Promise<void> => {
    await plug.drain();
    queue.stop();
    delivery.stop();
    for (const a of agents.values()) a.kill('NanoClaw is shutting down');
    await Promise.allSettled([...agents.values()].map((a) => a.done));
    await plug.stop();
    server?.closeAllConnections();
    if (server) await new Promise((r) => server!.close(r));
    for (const ch of channels) await ch.disconnect().catch(() => {});
    store.close();
    logger.flush?.();
  };
  const mine = { ...core, token, runtimeProblems, url: '', stop };
  const host: Host = Object.assign({}, ...plug.all('expose'), mine);
  const extend = (app: Hono) => [plug.api(app), opts.extendApi?.(app, host)];
  const app = hostApi({ ...mine, local, extend });
  server = (await listen(app.fetch, config)) as unknown as Server;
  const { port } = server.address() as AddressInfo;
  core.ownPorts.add(port);
  host.url = `http://${config.httpHost}:${port}`;
  return host;
}
