// The shapes every part shares, and the two extension seams: Channel and SandboxRuntime.
import type http from 'node:http';
import type { Logger } from 'pino';

export interface Message {
  id: string;
  chatJid: string;
  sender: string;
  senderName: string;
  text: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  /** Sent from the assistant's own account (shared-number mode). */
  fromMe: boolean;
  /** Written by the assistant; never triggers it. */
  fromAssistant: boolean;
  replyTo?: { id: string; text?: string; sender?: string } | null;
  /** The platform says it @mentions, or replies to, the assistant's account. */
  mentionsAssistant?: boolean;
  repliesToAssistant?: boolean;
  attachments?: Attachment[];
}

export interface Attachment {
  kind: 'image' | 'audio' | 'document' | 'sticker' | 'video';
  /** Relative to the group folder. */
  path: string;
  mimeType?: string;
  /** Audio: what was said ('' when not transcribable). */
  transcript?: string;
}

export interface ChatInfo {
  jid: string;
  name?: string;
  channel: string;
  isGroup?: boolean;
}

export interface ChannelEvents {
  onMessage(msg: Message): void;
  onChat(info: ChatInfo): void;
  onState?(state: ChannelState): void;
  onButton?(press: ButtonPress): Promise<ButtonAnswer>;
}

export interface MessageButton {
  label: string;
  /** At most 64 bytes (Telegram's callback_data limit). */
  action: string;
}

export interface ButtonPress {
  chatJid: string;
  action: string;
  /** By the channel's owner rule: account id, never name. */
  fromOwner: boolean;
  sender: string;
  senderName: string;
}

export interface ButtonAnswer {
  notice: string;
  /** When set, the buttons are replaced by this line. */
  done?: string;
}

export interface ChannelState {
  connected: boolean;
  detail?: string;
  linking?: { qr?: string; pairingCode?: string };
}

export interface SendOptions {
  buttons?: MessageButton[];
  /** Fixed across retries and restarts, so the platform can tell a resend from a new message. */
  outboxId?: number;
  outboxKey?: string;
  /** An earlier attempt was in flight when the host stopped: send only what is missing. */
  maybeSent?: boolean;
}

/** A chat platform. It only moves messages; triggers and groups are not its business. */
export interface Channel {
  readonly name: string;
  ownsJid(jid: string): boolean;
  connect(events: ChannelEvents): Promise<void>;
  /** Resolves once the platform accepted it. */
  sendMessage(jid: string, text: string, opts?: SendOptions): Promise<void>;
  sendMedia?(jid: string, media: OutboundMedia, caption: string): Promise<void>;
  setTyping?(jid: string, typing: boolean): Promise<void>;
  /** The assistant speaks through the user's own account, so replies need the `Andy: ` prefix. */
  readonly sharesUserAccount: boolean;
  isConnected(): boolean;
  disconnect(): Promise<void>;
  readonly pacing?: ChannelPacing;
  /** The user's "message yourself" chat (WhatsApp): a main chat once known. */
  selfJid?(): string | null;
}

/** A host path no sandbox can reach. */
export interface OutboundMedia {
  path: string;
  fileName: string;
  mimeType: string;
}

/** Spaces bursts so the account is not limited; a quiet chat's message goes out at once. */
export interface ChannelPacing {
  /** Least ms between two messages to one chat, plus up to jitterMs. */
  perChatMs: number;
  jitterMs?: number;
  /** Only for chats isGroupChat names. */
  perGroupChatPerMinute?: number;
  perChannelPerSecond?: number;
  perChannelPerMinute?: number;
  isGroupChat?(jid: string): boolean;
}

export class RateLimitedError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** Plugins add the settings only they read by declaration merging (here and in ApprovalSettings). */
export interface SandboxSettings {
  memoryMb?: number;
  cpus?: number;
  pids?: number;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  outputCapBytes?: number;
  extraMounts?: { hostPath: string; containerPath: string; readonly?: boolean }[];
  /** send_message calls per turn (default 10). */
  maxMessagesPerTurn?: number;
  approvals?: ApprovalSettings;
}

/** What the owner can be asked about; plugins add theirs by declaration merging (and `Plugin.approvalKinds`). */
export interface ApprovalKinds {
  mount_write: true;
  bash: true;
}
export type ApprovalKind = keyof ApprovalKinds;
export type ApprovalMode = 'allow' | 'ask' | 'deny';

export interface ApprovalSettings {
  policy?: Partial<Record<ApprovalKind, ApprovalMode>>;
}

export interface RegisteredGroup {
  jid: string;
  name: string;
  folder: string;
  trigger: string;
  requiresTrigger: boolean;
  isMain: boolean;
  sandbox: SandboxSettings;
  addedAt: string;
}

export interface Mount {
  hostPath: string;
  containerPath: string;
  readonly: boolean;
}

export interface SandboxSpec {
  id: string;
  groupFolder: string;
  mounts: Mount[];
  /** '' when the sandbox reaches the gateway over TCP. */
  gatewaySocket: string;
  gatewaySocketInside: string;
  /** Never contains a real credential. */
  env: Record<string, string>;
  command: string[];
  workdir: string;
  limits: { memoryMb: number; cpus: number; pids: number; outputCapBytes: number };
}

export interface SandboxProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<{ code: number | null; signal: string | null; reason?: string }>;
  output(): string;
  kill(): void;
  /** The limit the sandbox hit (which stops it), if any. */
  checkLimits?(): string | null;
}

export interface SandboxRuntime {
  readonly name: string;
  /** If it cannot work here, why, in words a user can act on. */
  check(): Promise<{ ok: true } | { ok: false; reason: string }>;
  start(spec: SandboxSpec): SandboxProcess;
  describe?(): string;
  /** Removes sandboxes a previous run of this install left behind. */
  removeOrphans?(): Promise<void>;
  /** Serves a sandbox's gateway where a unix socket cannot cross (a VM); without it, a unix socket. */
  openEndpoint?(
    server: http.Server,
    at: { group: string; logger: Logger; ownPorts: Set<number> },
  ): Promise<GatewayEndpoint>;
}

/** Where one sandbox reaches its gateway. */
export interface GatewayEndpoint {
  /** The unix socket to mount, or '' when `env` tells the sandbox where (NANOCLAW_GATEWAY_SOCKET). */
  socketPath: string;
  env?: Record<string, string>;
  close(): Promise<void>;
}
