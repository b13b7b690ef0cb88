// The one seam every feature plugs in through (a folder of its own beside the core, one line in the plugin
// list). A plugin is an object: what it brings before the host starts
// (a chat app, sandbox runtimes, store queries) and a `setup` that gets the running
// core and answers with its parts. The core never imports a plugin; it only runs the
// parts it is given, and stops them in reverse.
import type { Hono } from 'hono';
import type { SettingsCheck } from './api/groups.js';
import type { HostStatus } from './status.js';
import type { Approver } from './ask.js';
import type { LiveAgent } from './agent/agent.js';
import type { ChannelPlugin } from './channels/plugin.js';
import type { Config, Credential } from './config/config.js';
import type { HomePaths } from './config/home.js';
import type { ConversationDeps } from './conversation/conversation.js';
import type { OwnerNotice } from './delivery/owner-notice.js';
import type { GatewayHooks } from './gateway/types.js';
import type { InboundStep } from './inbound/receive.js';
import type { Logger } from './logger.js';
import type { GroupQueue } from './queue/group-queue.js';
import type { RuntimeContext } from './sandbox/runtimes.js';
import type { DB } from './store/db.js';
import type { Store, StoreExtensions } from './store/index.js';
import type { HostTool } from './tools/registry.js';
import type { ButtonAnswer, ButtonPress, Channel, Message, RegisteredGroup, SandboxRuntime } from './types.js';
import type { RunAgent } from './conversation/turn.js';
import type { SandboxParts, SandboxStart } from './sandbox/parts.js';

export type { SandboxParts, SandboxStart };

export interface Plugin {
  readonly name: string;
  /** A chat app: settings, setup, doctor, and the channel it starts when configured. */
  readonly channel?: ChannelPlugin;
  /** Sandbox runtimes by the name NANOCLAW_RUNTIME gives them. */
  readonly runtimes?: Readonly<Record<string, (ctx: RuntimeContext) => SandboxRuntime>>;
  /** Its own tables (migrations run once each, in order) and queries (`store.<name>`, declared in StoreExtensions). */
  readonly migrations?: readonly string[];
  readonly store?: (db: DB) => Partial<StoreExtensions>;
  /** Plugs into the running core; what it answers is used from then on. */
  setup?(core: PluginCore): PluginParts | void | Promise<PluginParts | void>;
}

/** The running core, as a plugin sees it. */
export interface PluginCore {
  config: Config;
  paths: HomePaths;
  store: Store;
  logger: Logger;
  channels: readonly Channel[];
  channelPlugins: readonly ChannelPlugin[];
  agents: ReadonlyMap<string, LiveAgent>;
  queue: GroupQueue;
  conversation: ConversationDeps;
  runtime: SandboxRuntime | null;
  /** Tells the owner in their main chat (a connected chat app's before the local one). */
  notifyOwner: OwnerNotice;
  /** Asks the owner, through whichever plugin answers (refuses what needs asking when none does). */
  approver: Approver;
  /** Forgets a chat's session, stopping its agent first. */
  resetSession(folder: string): Promise<void>;
  /** Hands a message to the host as if a channel received it. */
  receive(msg: Message, channel: Channel): number | null;
  /** What GET /api/status answers. */
  status(): HostStatus;
  /** The host's own ports: no sandbox may reach them. */
  ownPorts: Set<number>;
  /** Options the host was started with (test clocks, DNS). */
  now?: () => number;
  resolve?: (host: string) => Promise<string[]>;
}

export interface PluginParts {
  /** Steps a stored message passes before the trigger decides (pairing, consent, approval answers). */
  inbound?: InboundStep[];
  /** May this sender call the assistant in this chat (the sender allowlist)? All must agree; the owner always may. */
  canTrigger?(group: RegisteredGroup, msg: Message): boolean;
  /** Runs before a channel's message is routed (voice notes become text). */
  receive?(msg: Message, next: (msg: Message) => void): void;
  /** A button a channel showed was tapped. */
  onButton?(press: ButtonPress): Promise<ButtonAnswer | null>;
  tools?: HostTool[];
  /** What a sandbox gets when it starts; throw to refuse the start with that message. */
  sandbox?(s: SandboxStart): SandboxParts | void;
  /** Before an agent starts: why it may not (a full disk), or null. */
  refuseRun?(group: RegisteredGroup): string | null;
  afterRun?(group: RegisteredGroup): void;
  /** A queued task's run. */
  runTask?(taskId: string, run: RunAgent): Promise<void>;
  /** The queue gave up on a chat's messages; `told` is what the chat was told. */
  onGiveUp?(jid: string, told: string): void;
  /** The disk is full: free what was set aside; true when something was. */
  releaseSpace?(): boolean;
  gateway?: GatewayHooks;
  /** The model credential for each call (refreshed when it nears expiry); default: the one from the environment. */
  credential?(): Promise<Credential | null>;
  /** Checks a chat's settings being saved (host folders against the allowlist): null, or why not. */
  checkSettings?: SettingsCheck;
  approver?: Approver;
  /** Routes on the local API (behind its token). */
  api?(app: Hono): void;
  /** Fields for GET /api/status. */
  status?(): Record<string, unknown>;
  /** What the owner should fix (a broken settings file), listed in status beside the runtime's problems. */
  problems?(): string[];
  /** Named things the host object exposes (host.scheduler, host.approvals). */
  expose?: Record<string, unknown>;
  /** After every channel connected and recovery ran. */
  start?(): void;
  /** Stops taking work; awaited before agents are stopped. */
  drain?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/** What the plugins bring before the host starts: their store queries, runtimes and chat apps (after `local`). */
export function gather(plugins: readonly Plugin[], local: ChannelPlugin) {
  return {
    parts: plugins.filter((p) => p.store || p.migrations),
    runtimes: Object.assign({}, ...plugins.map((p) => p.runtimes ?? {})) as NonNullable<Plugin['runtimes']>,
    channels: [local, ...plugins.flatMap((p) => (p.channel ? [p.channel] : []))],
  };
}
