// The one seam every feature plugs in through: what a plugin brings before the host starts, and a `setup`
// that gets the running core and answers with its parts.
import type { Hono } from 'hono';
import type { SettingsCheck } from './groups/registration.js';
import type { HostStatus } from './status.js';
import { declareApprovalKinds, type Approver, type KindInfo } from './ask.js';
import type { LiveAgent } from './agent/agent.js';
import type { ChannelPlugin, MediaStore } from './channels/plugin.js';
import type { Config, Credential } from './config/config.js';
import type { HomePaths } from './config/home.js';
import type { ConversationDeps } from './conversation/conversation.js';
import type { Pace } from './delivery/delivery.js';
import type { OwnerNotice } from './delivery/owner-notice.js';
import type { GatewayHooks } from './gateway/types.js';
import type { InboundStep } from './inbound/receive.js';
import type { Logger } from './logger.js';
import type { GroupQueue } from './queue/group-queue.js';
import type { RuntimeContext } from './sandbox/runtimes.js';
import type { DB } from './store/db.js';
import type { StoredMessage } from './store/messages.js';
import type { Store, StoreExtensions } from './store/index.js';
import type { HostTool } from './tools/registry.js';
import type {
  ApprovalKind,
  ButtonAnswer,
  ButtonPress,
  Channel,
  Message,
  RegisteredGroup,
  SandboxRuntime,
} from './types.js';
import type { RunAgent } from './conversation/turn.js';
import type { SandboxParts, SandboxStart } from './sandbox/parts.js';

export interface Plugin {
  readonly name: string;
  readonly channel?: ChannelPlugin;
  /** By the name NANOCLAW_RUNTIME gives them. */
  readonly runtimes?: Readonly<Record<string, (ctx: RuntimeContext) => SandboxRuntime>>;
  /** Its own tables (each migration runs once) and queries (`store.<name>`, declared in StoreExtensions). */
  readonly migrations?: readonly string[];
  readonly store?: (db: DB) => Partial<StoreExtensions>;
  /** What it may ask the owner about, with each kind's default (its names go in ApprovalKinds). */
  readonly approvalKinds?: Partial<Record<ApprovalKind, KindInfo>>;
  /** Saves the files people send (the first plugin's); made before channels start. */
  readonly media?: (ctx: { store: Store; paths: HomePaths }) => MediaStore;
  setup?(core: PluginCore): PluginParts | void | Promise<PluginParts | void>;
}

export interface PluginCore {
  config: Config;
  paths: HomePaths;
  store: Store;
  logger: Logger;
  channels: Channel[];
  channelPlugins: readonly ChannelPlugin[];
  agents: ReadonlyMap<string, LiveAgent>;
  queue: GroupQueue;
  conversation: ConversationDeps;
  runtime: SandboxRuntime | null;
  notifyOwner: OwnerNotice;
  media?: MediaStore;
  approver: Approver;
  /** Every plugin's check of a group's new sandbox settings. */
  checkSettings: SettingsCheck;
  resetSession(folder: string): Promise<void>;
  /** As if the channel received it. */
  receive(msg: Message, channel: Channel): number | null;
  /** Every stored message, inbound and the assistant's own. */
  subscribe(listener: (m: StoredMessage) => void): () => void;
  status(): HostStatus;
  /** Connects a channel a plugin started and put in `channels` (the dashboard's, after new settings). */
  connect(channel: Channel): Promise<void>;
  /** No sandbox may reach them. */
  ownPorts: Set<number>;
  now?: () => number;
  resolve?: (host: string) => Promise<string[]>;
}

export interface PluginParts {
  /** Spaces sends as each chat app asks (the first plugin's). */
  pace?: Pace;
  /** Steps a stored message passes before the trigger decides. */
  inbound?: InboundStep[];
  /** May this sender call the assistant here (the sender allowlist)? All must agree; the owner always may. */
  canTrigger?(group: RegisteredGroup, msg: Message): boolean;
  /** Before a channel's message is routed (voice notes become text). */
  receive?(msg: Message, next: (msg: Message) => void): void;
  onButton?(press: ButtonPress): Promise<ButtonAnswer | null>;
  tools?: HostTool[];
  /** Throw to refuse the start with that message. */
  sandbox?(s: SandboxStart): SandboxParts | void;
  /** Why an agent may not start (a full disk), or null. */
  refuseRun?(group: RegisteredGroup): string | null;
  afterRun?(group: RegisteredGroup): void;
  /** An agent idle for IDLE_TIMEOUT: true keeps it waiting, as a warm agent, instead of closing it. */
  keepIdle?(group: RegisteredGroup): boolean;
  /** false: not this plugin's task (the next one's). */
  runTask?(taskId: string, run: RunAgent): Promise<void | false>;
  onGiveUp?(jid: string, told: string): void;
  /** The disk is full: free what was set aside; true when something was. */
  releaseSpace?(): boolean;
  gateway?: GatewayHooks;
  /** The model credential for each call; default: the one from the environment. */
  credential?(): Promise<Credential | null>;
  checkSettings?: SettingsCheck;
  approver?: Approver;
  /** Behind the local API's token. */
  api?(app: Hono): void;
  status?(): Record<string, unknown>;
  /** What the owner should fix (a broken settings file), listed in status. */
  problems?(): string[];
  /** Named things on the host object (host.scheduler). */
  expose?: Record<string, unknown>;
  /** After channels connected and recovery ran. */
  start?(): void;
  /** Stops taking work, before agents are stopped. */
  drain?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

export function gather(plugins: readonly Plugin[], local: ChannelPlugin) {
  for (const p of plugins) if (p.approvalKinds) declareApprovalKinds(p.approvalKinds);
  return {
    parts: plugins.filter((p) => p.store || p.migrations),
    runtimes: Object.assign({}, ...plugins.map((p) => p.runtimes ?? {})) as NonNullable<Plugin['runtimes']>,
    channels: [local, ...plugins.flatMap((p) => (p.channel ? [p.channel] : []))],
    media: plugins.find((p) => p.media)?.media,
  };
}
