// The shapes every part of NanoClaw agrees on. The two extension seams live
// here: `Channel` (a chat platform) and `SandboxRuntime` (a way to jail an agent).

/** One chat message, as stored. Ids are unique per chat. */
export interface Message {
  id: string;
  chatJid: string;
  sender: string;
  senderName: string;
  text: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  /** Sent from the account the assistant runs on (shared-number mode). */
  fromMe: boolean;
  /** Written by the assistant itself. Never triggers it. */
  fromAssistant: boolean;
  replyTo?: { id: string; text?: string; sender?: string } | null;
  /** The platform says this message @mentions the assistant's own account (e.g. a Telegram bot mention). */
  mentionsAssistant?: boolean;
  /** The platform says this message replies to one of the assistant's messages. */
  repliesToAssistant?: boolean;
  /** Files saved for this message (host paths inside the group folder), with their kind. */
  attachments?: Attachment[];
}

export interface Attachment {
  kind: 'image' | 'audio' | 'document' | 'sticker' | 'video';
  /** Path relative to the group folder, e.g. `inbox/1700000000-abc.jpg`. */
  path: string;
  mimeType?: string;
  /** Audio: what was said ('' when it could not be transcribed; the message text says why). */
  transcript?: string;
}

/** Metadata about a chat a channel has seen, registered or not. */
export interface ChatInfo {
  jid: string;
  name?: string;
  channel: string;
  isGroup?: boolean;
}

/** What a channel hands the host. The host stores first, decides later. */
export interface ChannelEvents {
  onMessage(msg: Message): void;
  onChat(info: ChatInfo): void;
  /** Connection state changes, for status and the dashboard. */
  onState?(state: ChannelState): void;
  /** Someone tapped a button the assistant sent (channels that show buttons). */
  onButton?(press: ButtonPress): Promise<ButtonAnswer>;
}

/** A button under a message: channels that can show buttons do, the others send the text alone. */
export interface MessageButton {
  label: string;
  /** Handed back in ButtonPress.action when tapped; at most 64 bytes (Telegram's callback_data limit). */
  action: string;
}

export interface ButtonPress {
  chatJid: string;
  action: string;
  /** Who tapped, as the channel's own owner rule says (by account id, never by name). */
  fromOwner: boolean;
  sender: string;
  senderName: string;
}

export interface ButtonAnswer {
  /** Shown to whoever tapped. */
  notice: string;
  /** When set, the buttons are taken off the message and this line is added to it. */
  done?: string;
}

export interface ChannelState {
  connected: boolean;
  detail?: string;
  /** A QR payload or pairing code waiting to be scanned/entered. */
  linking?: { qr?: string; pairingCode?: string };
}

/** How delivery asks a channel to send one outbox item, so the platform can tell a resend from a new message. */
export interface SendOptions {
  buttons?: MessageButton[];
  /** Fixed per outbox item across retries and restarts: a platform's idempotency key is derived from it. */
  outboxId?: number;
  /** The same, unique across databases too (id and creation time): for keys that live on the platform for good. */
  outboxKey?: string;
  /**
   * An earlier attempt was in flight when the host stopped: the platform may already have it.
   * A channel that can look (its own history, a nonce) sends only what is not there yet.
   */
  maybeSent?: boolean;
}

/**
 * A chat platform, made by its plugin (src/channels/<name>/plugin.ts). Adding
 * one is one folder plus one line in the channel registry.
 * A channel never decides about triggers or groups; it only moves messages.
 */
export interface Channel {
  readonly name: string;
  /** Does this chat id belong to this channel? (e.g. `local:`, `tg:`, `@s.whatsapp.net`) */
  ownsJid(jid: string): boolean;
  connect(events: ChannelEvents): Promise<void>;
  /** Send text to a chat. Resolves once the platform accepted it; throws if not. Buttons: for channels that show them. */
  sendMessage(jid: string, text: string, opts?: SendOptions): Promise<void>;
  /** Send a file (an image as a photo) with `caption`; without it, delivery sends the text and says the file could not go. */
  sendMedia?(jid: string, media: OutboundMedia, caption: string): Promise<void>;
  setTyping?(jid: string, typing: boolean): Promise<void>;
  /**
   * True when the assistant speaks through the user's own account here, so
   * replies need the `Andy: ` prefix to be told apart.
   */
  readonly sharesUserAccount: boolean;
  isConnected(): boolean;
  disconnect(): Promise<void>;
  /** How fast delivery may send here, so a burst does not get the account limited or banned. None: no pacing. */
  readonly pacing?: ChannelPacing;
  /** The user's own "message yourself" chat, where the channel has one (WhatsApp); it becomes a main chat once known. */
  selfJid?(): string | null;
}

/** A file for Channel.sendMedia: a host path no sandbox can reach. */
export interface OutboundMedia {
  path: string;
  fileName: string;
  mimeType: string;
}

/**
 * A platform's sending limits, applied by delivery. Pacing only spaces bursts:
 * a message to a chat that has been quiet goes out at once.
 */
export interface ChannelPacing {
  /** Least time between two messages to one chat (ms). */
  perChatMs: number;
  /** Up to this much more between them, at random (ms), so the spacing looks typed. */
  jitterMs?: number;
  /** At most this many messages a minute to one group chat (those `isGroupChat` names). */
  perGroupChatPerMinute?: number;
  /** At most this many messages a second, and a minute, across the whole channel. */
  perChannelPerSecond?: number;
  perChannelPerMinute?: number;
  isGroupChat?(jid: string): boolean;
}

/** A send refused for a while by the platform (HTTP 429): delivery waits this long before trying that chat again. */
export class RateLimitedError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

export type EgressPolicy = 'none' | 'allowlist' | 'open';

/** Per-group sandbox settings, all optional; defaults come from the config. */
export interface SandboxSettings {
  memoryMb?: number;
  cpus?: number;
  pids?: number;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  outputCapBytes?: number;
  /** Folder quota in MB (default NANOCLAW_GROUP_QUOTA_MB). */
  diskQuotaMb?: number;
  egress?: EgressPolicy;
  egressAllowlist?: string[];
  extraMounts?: { hostPath: string; containerPath: string; readonly?: boolean }[];
  /** How many send_message calls one agent turn may make (default 10); the rest are refused. */
  maxMessagesPerTurn?: number;
  /** "Ask me first": per kind of action allow | ask | deny, and what the owner always allows (src/approvals/). */
  approvals?: ApprovalSettings;
}

export type ApprovalKind = 'network' | 'mount_write' | 'bash' | 'cross_chat' | 'groups' | 'task_budget';
export type ApprovalMode = 'allow' | 'ask' | 'deny';

export interface ApprovalSettings {
  policy?: Partial<Record<ApprovalKind, ApprovalMode>>;
  /** Bash commands that count as the `bash` kind: a command containing one of these words or phrases. */
  bashPatterns?: string[];
  /** Exact actions the owner answered "always" to: they pass without asking. */
  allow?: { kind: ApprovalKind; detail: string }[];
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

/** One bind mount into a sandbox. Paths are absolute. */
export interface Mount {
  hostPath: string;
  containerPath: string;
  readonly: boolean;
}

export interface SandboxSpec {
  /** Unique per sandbox, safe as a file/container name. */
  id: string;
  groupFolder: string;
  mounts: Mount[];
  /** Host path of the gateway's unix socket for this sandbox ('' when it reaches the gateway over TCP). */
  gatewaySocket: string;
  /** Where the socket appears inside. */
  gatewaySocketInside: string;
  /** Environment inside the sandbox. Never contains a real credential. */
  env: Record<string, string>;
  /** Command inside the sandbox. */
  command: string[];
  workdir: string;
  limits: { memoryMb: number; cpus: number; pids: number; outputCapBytes: number };
}

export interface SandboxProcess {
  readonly pid: number | undefined;
  /** Resolves with why it ended. */
  readonly exited: Promise<{ code: number | null; signal: string | null; reason?: string }>;
  /** Diagnostic output (stderr), capped. */
  output(): string;
  kill(): void;
  /** Which limit (memory, processes, output) the sandbox hit, if any; a hit also stops it. */
  checkLimits?(): string | null;
}

/** A way to jail an agent (bwrap, docker, podman, apple). One file each. */
export interface SandboxRuntime {
  readonly name: string;
  /** Can this runtime work here? Say why not, in words a user can act on. */
  check(): Promise<{ ok: true } | { ok: false; reason: string }>;
  start(spec: SandboxSpec): SandboxProcess;
  /** One line for `nanoclaw doctor`: which runtime, and how its limits are enforced. */
  describe?(): string;
  /** Removes sandboxes (containers, cgroups) a previous run of this install left behind. */
  removeOrphans?(): Promise<void>;
  /**
   * How the sandbox reaches its gateway: a bind-mounted unix socket (default),
   * or TCP to the host with a per-sandbox secret where sockets cannot cross
   * (VMs); `tcpHost` is the host address as seen from inside.
   */
  gatewayTransport?: { kind: 'unix' } | { kind: 'tcp'; listenHost: string; tcpHost: string };
}
