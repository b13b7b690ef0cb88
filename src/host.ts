// The host: builds the graph (store, channels, inbound steps, queue, agents,
// gateway, delivery, scheduler, local API) in dependency order, starts it and
// stops it. Event-driven throughout: a stored message reaches the queue by a
// function call; a reply reaches its channel when the outbox is written.
import type { AddressInfo } from 'node:net';
import type { ServerType } from '@hono/node-server';
import type { LiveAgent } from './core/agent/agent.js';
import { createDiskGuard, openReserve } from './plugins/limits/disk-guard.js';
import { clearStaleStaging } from './plugins/approvals/staging.js';
import { createAgentRunner, createJobRunner, enqueueUnanswered, sessionReset, tellGaveUp } from './core/agent/run.js';
import { createLocalChannel, localMessage } from './core/channels/local/local.js';
import { CHANNELS, configuredChannels, typingVia } from './core/channels/registry.js';
import { setEnvValues } from './core/config/env-file.js';
import { ensureApiToken, ensureHome, homePaths } from './core/config/home.js';
import type { ConversationDeps } from './core/conversation/conversation.js';
import { approvalCooldownMs, approvalTimeoutMs, createApprovals } from './plugins/approvals/approvals.js';
import { createCredentialSource } from './core/gateway/credentials.js';
import { createGateway } from './core/gateway/gateway.js';
import { ownPorts } from './plugins/egress/policy.js';
import { createModelHealth, delayNoticeMs } from './plugins/health/model-health.js';
import {
  ensureMainGroup,
  registerGroup,
  registerSelfChat,
  unregisterGroup,
  type RegisterInput,
} from './core/groups/registration.js';
import { answerButtonPress, approvalAnswerStep } from './plugins/approvals/answer-step.js';
import { consentStep } from './plugins/forget/consent-step.js';
import { createMessageFeed } from './core/inbound/feed.js';
import { approvePairing, isDirectChat, pairingStep } from './plugins/pairing/pairing.js';
import { createInbound } from './core/inbound/receive.js';
import { loadSenderAllowlist } from './core/inbound/sender-allowlist.js';
import { createLogger } from './core/logger.js';
import { createDelivery } from './core/delivery/delivery.js';
import { createOwnerNotice } from './core/delivery/owner-notice.js';
import { createGroupQueue } from './core/queue/group-queue.js';
import { prepareRuntime } from './core/sandbox/runtimes.js';
import { listen } from './core/api/serve.js';
import { createVoiceStep, groupDirOf } from './plugins/voice/transcribe.js';
import { createEngine, downloadProgress, sttSettings } from './plugins/voice/engine.js';
import type { Host, HostOptions } from './host-types.js';
import { createScheduler } from './plugins/scheduler/scheduler.js';
import { createStatus } from './core/status.js';
import { openStore } from './core/store/index.js';
import { storeProblem } from './core/store/problem.js';
import { createTaskTools, type TaskDeps } from './plugins/scheduler/tools.js';
import { createToolHandler } from './core/tools/tools.js';
import { createForgetTools } from './plugins/forget/tools.js';
import { createForgetEngine } from './plugins/forget/engine.js';
import { purgeOptedOut } from './plugins/forget/opt-out.js';
import { createApi } from './core/api/app.js';
import { allowlistMountCheck } from './core/api/groups.js';
import type { Channel, ChannelState, Message } from './core/types.js';

export type { HostStatus } from './core/status.js';
export type { Host, HostOptions } from './host-types.js';
export type { InboundDecision as RouteDecision } from './core/inbound/receive.js';
export { storeProblem } from './core/store/problem.js';

export async function startHost(opts: HostOptions): Promise<Host> {
  const { config } = opts;
  const paths = homePaths(config.home);
  try {
    ensureHome(paths, config.assistantName);
  } catch (err) {
    throw new Error(storeProblem(err, (err as NodeJS.ErrnoException).path ?? config.home));
  }
  const logger = opts.logger ?? createLogger({ level: config.logLevel, logsDir: paths.logs });
  const disk = {
    paths,
    logger,
    reserveBytes: config.diskReserveMb * 1024 * 1024,
    quotaBytes: config.groupQuotaMb * 1024 * 1024,
  };
  const reserve = openReserve(disk);
  let store: ReturnType<typeof openStore>;
  try {
    store = openStore(paths.db, { releaseSpace: reserve.release });
  } catch (err) {
    throw new Error(storeProblem(err, paths.db));
  }
  const token = ensureApiToken(paths);
  const registry = { store, paths, assistantName: config.assistantName };
  ensureMainGroup(registry);

  const { runtime, problems: runtimeProblems } = await prepareRuntime(config, paths, opts.runtime);

  const feed = createMessageFeed({ store, logger });
  const channelStates = new Map<string, ChannelState>();
  const local = createLocalChannel();
  const channels: Channel[] = [local];
  const notifyOwner = createOwnerNotice(store, channels);
  const plugins = opts.plugins ?? CHANNELS;
  channels.push(
    ...(opts.channels ?? (await configuredChannels({ config, paths, store, logger, notifyOwner }, plugins))),
  );
  const senders = loadSenderAllowlist(config.configDir);
  const agents = new Map<string, LiveAgent>();
  const diskGuard = createDiskGuard({ ...disk, reserve, notifyOwner, running: () => agents.values() });
  diskGuard.startup();

  const delivery = createDelivery({
    store,
    channels: () => channels,
    assistantName: config.assistantName,
    logger,
    onStored: feed.emit,
    retryMs: Math.min(10_000, config.retryBaseMs * 2),
  });
  // Every committed outbox write wakes delivery; no writer has to remember to.
  store.outbox.onWrite(() => delivery.kick());

  // The one real cycle (a due task goes to the queue, the queue runs it through the scheduler): closed by this function.
  const scheduler = createScheduler({
    store,
    logger,
    timezone: config.timezone,
    now: opts.now,
    queue: { enqueueTask: (key, taskId) => queue.enqueueTask(key, taskId) },
    // A run holds its claim at most one agent turn (plus a minute to start its sandbox).
    staleMs: config.agentTimeoutMs + 60_000,
  });
  // Ask me first: a restart while a request waited means no; the owner answers in the main chat.
  const approvals = createApprovals({
    store,
    paths,
    logger,
    timeoutMs: approvalTimeoutMs(config.env),
    cooldownMs: approvalCooldownMs(config.env),
    // Where the owner is: a connected phone's main chat before the local one.
    postToMain: notifyOwner,
  });
  approvals.recover();
  // Staged copies of host folders from before a restart were never approved: they go with it.
  clearStaleStaging(paths.data);
  const taskDeps: TaskDeps = { store, timezone: config.timezone, now: opts.now, onChange: () => scheduler.changed() };
  const forget = createForgetEngine({ store, paths, resetSession: sessionReset(store, agents) });
  // An opted-out sender's message lives only until the turn that answers it is committed.
  store.outbox.onWrite(() => purgeOptedOut({ store, paths }));
  purgeOptedOut({ store, paths });
  const tool = createToolHandler({
    store,
    paths,
    assistantName: config.assistantName,
    timezone: config.timezone,
    tools: [
      ...createTaskTools(taskDeps),
      ...createForgetTools({ store, paths, engine: forget, isDirectChat: (jid) => isDirectChat(jid, plugins) }),
    ],
    approve: approvals.forTool,
  });
  // OAuth tokens are refreshed here, on the host, when they near expiry.
  const credential = createCredentialSource({ initial: config.credential, authDir: paths.auth, logger }).get;
  // What the model API's answers mean for the chats: delay notices, a refused credential, the current error in status.
  const modelHealth = createModelHealth({
    delayNoticeMs: delayNoticeMs(config.env),
    tell: (jid, text) => store.outbox.enqueue(jid, text, { kind: 'system' }),
    tellOwner: notifyOwner,
    recordError: (folder, jid, text) => store.usage.recordError(folder, jid, text),
    isMain: (jid) => !!store.groups.get(jid)?.isMain,
  });
  // Every port this host listens on, added where it is opened: no sandbox may reach any of them.
  const own = ownPorts();
  const gateway = createGateway({
    upstream: config.anthropicBaseUrl,
    credential,
    recordUsage: (u) => store.usage.record(u),
    logger,
    onModelCall: modelHealth.report,
    approvals: approvals.forGateway,
    ownPorts: own,
    resolve: opts.resolve,
  });
  const runAgent = createAgentRunner({
    runtime,
    runtimeProblems,
    hasCredential: !!config.credential,
    diskGuard,
    store,
    agents,
    agent: {
      config,
      paths,
      gateway,
      logger,
      tool,
      setTyping: typingVia(channels),
      onPromptDelivered: opts.onPromptDelivered,
      currentGroup: (jid) => store.groups.get(jid),
      approve: approvals.check,
      tellOwner: notifyOwner,
    },
  });
  const conversation: ConversationDeps = {
    store,
    timezone: config.timezone,
    assistantName: config.assistantName,
    // Your own messages always count; others only if the sender allowlist says so.
    canTrigger: (_group, msg) => msg.fromMe || senders.canTrigger(msg.chatJid, msg.sender),
  };
  const queue = createGroupQueue({
    maxConcurrent: config.maxConcurrentAgents,
    retryBaseMs: config.retryBaseMs,
    maxRetries: config.maxRetries,
    logger,
    run: createJobRunner({ store, conversation, runAgent, runTask: scheduler.runTask }),
    yieldFor: (jid) => agents.get(jid)?.close(),
    onGiveUp: (jid, _job, err, tries) => {
      modelHealth.settle(jid);
      tellGaveUp(store, jid, err, tries);
    },
  });
  const inbound = createInbound({
    store,
    logger,
    conversation,
    senders,
    steps: [
      consentStep({ store, conversation }),
      pairingStep({ ...registry, logger, notifyOwner, conversation, plugins }),
      approvalAnswerStep({ store, conversation, approvals }),
    ],
    emit: feed.emit,
    onRouted: opts.onRouted,
    wake: (jid) => !!agents.get(jid)?.wake(),
    enqueue: queue.enqueueMessages,
  });
  const receive = (msg: Message, ch: Channel) => inbound.receive(msg, { name: ch.name, isLocal: ch === local }).seq;
  // Voice notes are transcribed before routing, so a spoken trigger triggers.
  const voice = createVoiceStep({
    engine: createEngine(sttSettings(config.env, paths.data), { onProgress: downloadProgress(logger) }),
    groupDirFor: groupDirOf(registry),
    logger,
  });

  for (const ch of channels) {
    await ch
      .connect({
        onMessage: (m) => voice.receive(m, (x) => receive(x, ch)),
        onChat: (info) => store.messages.upsertChat(info),
        onButton: async (press) => answerButtonPress({ store, approvals }, press),
        onState: (s) => {
          channelStates.set(ch.name, s);
          if (s.connected) {
            registerSelfChat({ store, assistantName: config.assistantName, logger }, ch);
            delivery.kick();
          }
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
  scheduler.start();

  const status = createStatus({
    store,
    assistantName: config.assistantName,
    hasCredential: !!config.credential,
    runtime,
    runtimeProblems,
    senderProblem: senders.problem,
    channels,
    channelStates,
    agents,
    queue,
    plugins,
    modelProblem: modelHealth.current,
    modelRecoveredAt: modelHealth.recoveredAt,
  });
  let server: ServerType | null = null;
  // The order matters: everything stops taking work first (a task run cut short is then given back, not failed),
  // then the agents go, then what they were writing to.
  const stop = async (): Promise<void> => {
    feed.stop();
    scheduler.stop();
    diskGuard.stop();
    queue.stop();
    modelHealth.stop();
    approvals.stop();
    delivery.stop();
    for (const a of agents.values()) a.kill('NanoClaw is shutting down');
    await Promise.allSettled([...agents.values()].map((a) => a.done));
    await scheduler.idle();
    if (server) {
      (server as import('node:http').Server).closeAllConnections?.();
      await new Promise<void>((r) => server!.close(() => r()));
    }
    for (const ch of channels) await ch.disconnect().catch(() => {});
    store.close();
    logger.flush?.();
  };
  const host: Host = {
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
    scheduler,
    url: '',
    receive,
    status,
    stop,
    approvePairing: (code) => approvePairing(registry, code.toUpperCase()),
    pendingPairings: () => store.pairing.pending(),
    subscribe: feed.subscribe,
    approvals,
  };

  if (opts.listen !== false) {
    const app = createApi({
      store,
      token,
      storeProblem: (err) => storeProblem(err, paths.db),
      injectLocal: (input) => {
        const msg = localMessage(input);
        receive(msg, local);
        return { id: msg.id };
      },
      subscribe: host.subscribe,
      typing: local,
      // registerGroup checks every field itself: the body is only shaped like its input.
      register: (input) => registerGroup(registry, input as unknown as RegisterInput),
      unregister: (jid) => unregisterGroup({ store }, jid),
      checkMounts: allowlistMountCheck(config.configDir, config.home),
      pairing: host,
      status,
      recentErrors: (n) => store.usage.recentErrors(n),
      tasks: taskDeps,
      channels: {
        plugins,
        env: () => ({ config, paths, env: config.env }),
        saveEnv: (values) => setEnvValues(config.home, values),
        running: () => channels.map((c) => c.name),
      },
      forget: { store, engine: forget },
      approvals,
      extend: (app) => opts.extendApi?.(app, host),
    });
    server = await listen(app.fetch, config);
    own.ports.add((server.address() as AddressInfo).port);
    host.url = `http://${config.httpHost}:${(server.address() as AddressInfo).port}`;
  }
  return host;
}
