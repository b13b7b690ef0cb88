// The Discord channel: a bot account through discord.js (REST + Gateway),
// chats as `dc:<channel id>` (server channels and threads) and `dc:dm:<user id>`
// (direct chats). The bot speaks as itself, so replies need no name prefix.
// Media from registered chats is saved into the group's inbox under names we
// generate; the user's file name is only ever shown as text.
import {
  ChannelType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  MessageType,
  Partials,
  RateLimitError,
  SimpleShardingStrategy,
  type Message as DjsMessage,
  type SendableChannels,
} from 'discord.js';
import type { Logger } from '../../core/logger.js';
import {
  RateLimitedError,
  type Attachment,
  type Channel,
  type ChannelEvents,
  type ChannelPacing,
  type ChatInfo,
} from '../../core/types.js';
import { formatBytes } from '../../kit/bounded.js';
import {
  MediaRefused,
  MediaTooLarge,
  NO_MEDIA_NOTE,
  REFUSED_NOTE,
  type MediaStore,
} from '../../core/channels/plugin.js';
import { downloadAttachment, kindOf, placeholderOf, type DiscordFile } from './attachments.js';
import { readableMentions, splitDiscordText } from './format.js';
import { discordChannelJid, discordDmJid, discordTarget, isDiscordJid } from './jids.js';

export interface DiscordChannelOptions {
  token: string;
  /** The REST API root (DISCORD_API_URL), e.g. `https://discord.com/api`; the Gateway URL comes from its /gateway/bot. */
  apiRoot?: string;
  assistantName: string;
  logger: Logger;
  media?: MediaStore;
  /** Largest file saved from a chat. Default 25 MB, what Discord lets a user upload without Nitro. */
  maxDownloadBytes?: number;
  /** Is this Discord user id the owner? Their messages are marked fromMe. Decided by id, never by name. */
  isOwner?(userId: string): boolean;
  /** Tell the owner something is wrong (the gateway dropped for oversized messages again and again). */
  notifyOwner?(text: string): void;
  /**
   * The registered chats and the newest Discord message id stored for each.
   * After each new Gateway session, what was posted since is fetched: Discord
   * does not replay what a fresh session missed (a restart, a failed resume).
   */
  catchUpFrom?(): { jid: string; after: string }[];
}

export const DISCORD_TOKEN_REJECTED =
  'Discord rejected DISCORD_BOT_TOKEN: copy the bot token again from the Developer Portal (Bot → Reset Token) and run `nanoclaw auth discord`';
export const DISCORD_INTENTS_REFUSED =
  'Discord refused the Message Content intent: turn on "Message Content Intent" for the bot in the Developer Portal (Bot → Privileged Gateway Intents), then restart NanoClaw';

const MAX_DOWNLOAD_BYTES = 25 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 120_000;
// Discord shows "typing" for about 10 s; refresh it while the agent works.
const TYPING_REFRESH_MS = 8_000;
const TYPING_MAX_MS = 30 * 60_000; // a safety net: the host ends typing when a turn ends
// Waits up to this long are left to discord.js's own queue; longer ones go back to the outbox.
const MAX_INLINE_RATE_LIMIT_MS = 5_000;
/**
 * The most one Gateway message may take. Events are small; the largest, a big server's GUILD_CREATE, stays a few
 * MB for the servers a personal bot sits in. `ws` would otherwise buffer up to 100 MB a message.
 */
export const DISCORD_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Oversized drops in a row that mean something is wrong with the server, not a one-off. */
const REPEATS = 3;
// Discord's page size for channel history; a longer outage keeps the newest page.
const CATCH_UP_LIMIT = 100;
const MAX_REMEMBERED_REPLIES = 100;

/**
 * Discord's limits: 5 messages per 5 s in one channel (DMs too), 50 requests a
 * second for the bot. Short bursts go out at once; discord.js also queues by the
 * rate-limit headers Discord sends, so the window here is only the coarse guard.
 */
export const DISCORD_PACING: ChannelPacing = {
  perChatMs: 200,
  perGroupChatPerMinute: 60,
  perChannelPerSecond: 50,
  isGroupChat: () => true,
};

export function createDiscordChannel(opts: DiscordChannelOptions): Channel {
  const log = opts.logger;
  const maxBytes = opts.maxDownloadBytes ?? MAX_DOWNLOAD_BYTES;
  let client: Client | null = null;
  let events: ChannelEvents | null = null;
  let healthy = false;
  const knownChats = new Map<string, string>();
  const typing = new Map<string, NodeJS.Timeout>();
  // Pieces of a split reply already accepted, so a retry after a refused piece sends only the rest.
  const sentPieces = new Map<string, number>();
  // Live messages held while a new session catches up (null: none is), and the chain that stores them in order.
  let held: DjsMessage[] | null = null;
  let live: Promise<void> = Promise.resolve();
  let oversized = 0;

  function setHealthy(ok: boolean, detail?: string): void {
    if (ok === healthy) return;
    healthy = ok;
    events?.onState?.({ connected: ok, detail });
  }

  function reportChat(info: ChatInfo): void {
    const key = `${info.name}\u0000${info.isGroup}`;
    if (knownChats.get(info.jid) === key) return;
    knownChats.set(info.jid, key);
    events?.onChat(info);
  }

  async function handleMessage(c: Client<true>, msg: DjsMessage): Promise<void> {
    if (!events || msg.author.id === c.user.id) return;
    // Joins, pins, boosts and the like carry nothing to store.
    if (msg.type !== MessageType.Default && msg.type !== MessageType.Reply) return;
    const direct = !msg.guildId;
    const chatJid = direct ? discordDmJid(msg.author.id) : discordChannelJid(msg.channelId);
    const senderName = msg.member?.displayName || msg.author.globalName || msg.author.username;
    reportChat({ jid: chatJid, name: direct ? senderName : channelName(msg), channel: 'discord', isGroup: !direct });

    let text = readableMentions(msg.content, {
      botId: c.user.id,
      assistantName: opts.assistantName,
      user: (id) => msg.mentions.members?.get(id)?.displayName ?? msg.mentions.users.get(id)?.username,
      role: (id) => msg.mentions.roles.get(id)?.name,
      channel: (id) => {
        const ch = c.channels.cache.get(id);
        return ch && 'name' in ch ? (ch.name ?? undefined) : undefined;
      },
    });
    const files = [...msg.attachments.values()].map((a): DiscordFile => ({
      url: a.url,
      name: a.name,
      size: a.size,
      contentType: a.contentType,
      voice: msg.flags.has(MessageFlags.IsVoiceMessage),
    }));
    if (!text && files.length) text = files.map(placeholderOf).join(' ');
    if (!text) return;
    const { attachments, notes } = await saveFiles(chatJid, msg.id, files);
    text += notes;

    const ref = await referencedMessage(msg);
    events.onMessage({
      id: msg.id,
      chatJid,
      sender: discordDmJid(msg.author.id),
      senderName,
      text,
      timestamp: msg.createdAt.toISOString(),
      fromMe: !msg.author.bot && !!opts.isOwner?.(msg.author.id),
      fromAssistant: false,
      replyTo: msg.reference?.messageId
        ? { id: msg.reference.messageId, text: ref?.content, sender: ref ? discordDmJid(ref.author.id) : undefined }
        : null,
      // The markup itself, not msg.mentions: a reply that pings lists the replied-to author there too.
      ...(new RegExp(`<@!?${c.user.id}>`).test(msg.content) ? { mentionsAssistant: true } : {}),
      ...(ref?.author.id === c.user.id ? { repliesToAssistant: true } : {}),
      ...(attachments.length ? { attachments } : {}),
    });
  }

  function logHandleError(msg: DjsMessage, err: unknown): void {
    log.error({ messageId: msg.id, err: describe(err) }, 'Could not handle a Discord message');
  }

  /** The message this one replies to: usually sent along (and cached), else asked for once. */
  async function referencedMessage(msg: DjsMessage): Promise<DjsMessage | undefined> {
    const id = msg.reference?.messageId;
    if (!id || msg.reference?.channelId !== msg.channelId) return undefined;
    const cached = msg.channel.messages.cache.get(id);
    if (cached) return cached;
    return msg.fetchReference().catch((err) => {
      log.debug({ messageId: msg.id, err: describe(err) }, 'Discord: the replied-to message is gone');
      return undefined;
    });
  }

  async function saveFiles(
    chatJid: string,
    messageId: string,
    files: DiscordFile[],
  ): Promise<{ attachments: Attachment[]; notes: string }> {
    const { media } = opts;
    const inbox = files.length ? media?.inboxDirFor(chatJid) : null;
    const attachments: Attachment[] = [];
    let notes = files.length && !media ? NO_MEDIA_NOTE : '';
    if (!media || !inbox) return { attachments, notes };
    for (const file of files) {
      try {
        if (file.size > maxBytes) throw new MediaTooLarge();
        const path = await downloadAttachment(media, file, {
          inbox,
          maxBytes,
          timeoutMs: DOWNLOAD_TIMEOUT_MS,
        });
        attachments.push({ kind: kindOf(file), path, ...(file.contentType ? { mimeType: file.contentType } : {}) });
      } catch (err) {
        if (err instanceof MediaTooLarge)
          notes += ` (${placeholderOf(file)} not saved: larger than ${Math.round(maxBytes / 1024 / 1024)} MB)`;
        else if (err instanceof MediaRefused) {
          log.warn({ chatJid, messageId, err: err.message }, 'Refused to save a Discord attachment');
          notes += REFUSED_NOTE;
        } else {
          log.warn({ chatJid, messageId, err: describe(err) }, 'Could not save a Discord attachment');
          notes += ` (${placeholderOf(file)} could not be saved)`;
        }
      }
    }
    return { attachments, notes };
  }

  async function channelFor(c: Client, jid: string): Promise<SendableChannels> {
    const target = discordTarget(jid);
    if (!target) throw new Error(`Not a Discord chat: ${jid}`);
    if (target.kind === 'dm') return c.users.createDM(target.userId);
    const ch = c.channels.cache.get(target.channelId) ?? (await c.channels.fetch(target.channelId));
    if (!ch || !ch.isSendable())
      throw new Error(
        `Discord channel ${target.channelId} cannot be written to by the bot (check its permissions there).`,
      );
    return ch;
  }

  /**
   * Hands over, oldest first, what each registered chat received since its newest stored message.
   * Live messages wait in `held` meanwhile, so one posted after the outage is never stored (and
   * answered) before one posted during it.
   */
  async function catchUp(c: Client<true>): Promise<void> {
    held ??= [];
    try {
      await fetchMissed(c);
    } finally {
      const live = (held ?? []).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      held = null;
      for (const msg of live) await handleMessage(c, msg).catch((err) => logHandleError(msg, err));
    }
  }

  async function fetchMissed(c: Client<true>): Promise<void> {
    for (const { jid, after } of opts.catchUpFrom?.() ?? []) {
      try {
        const channel = await channelFor(c, jid);
        if (!('messages' in channel)) continue;
        const missed = await channel.messages.fetch({ after, limit: CATCH_UP_LIMIT, cache: true });
        const oldestFirst = [...missed.values()].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
        if (oldestFirst.length)
          log.info({ jid, count: oldestFirst.length }, 'Discord: catching up on messages missed while away');
        for (const msg of oldestFirst) await handleMessage(c, msg);
      } catch (err) {
        log.warn({ jid, err: describe(err) }, 'Discord: could not fetch messages missed while away');
      }
    }
  }

  /** Nonces of the bot's own recent messages in a channel: what a send cut short by a crash may have posted. */
  async function noncesInHistory(c: Client, channel: SendableChannels): Promise<Set<string>> {
    if (!('messages' in channel)) return new Set();
    // Unreadable history (no Read Message History permission): the enforced nonce alone must do.
    const recent = await channel.messages.fetch({ limit: CATCH_UP_LIMIT, cache: false }).catch((err) => {
      log.warn({ err: describe(err) }, 'Discord: could not read recent messages before a resend');
      return null;
    });
    if (!recent) return new Set();
    const ours = [...recent.values()].filter((m) => m.author.id === c.user?.id && m.nonce !== null);
    return new Set(ours.map((m) => String(m.nonce)));
  }

  function remember(key: string, sent: number): void {
    sentPieces.delete(key);
    sentPieces.set(key, sent);
    // Only the latest few matter: the outbox retries a refused reply soon, or gives it up.
    if (sentPieces.size > MAX_REMEMBERED_REPLIES) sentPieces.delete(sentPieces.keys().next().value!);
  }

  function stopTyping(jid: string): void {
    const timer = typing.get(jid);
    if (timer) clearInterval(timer);
    typing.delete(jid);
  }

  return {
    name: 'discord',
    sharesUserAccount: false,
    pacing: DISCORD_PACING,

    ownsJid: isDiscordJid,

    isConnected: () => client !== null && healthy,

    async connect(ev) {
      if (client) return;
      if (!opts.token.trim()) throw new Error(DISCORD_TOKEN_REJECTED.replace('rejected', 'needs'));
      events = ev;
      const c = new Client({
        intents: [
          GatewayIntentBits.Guilds,
          GatewayIntentBits.GuildMessages,
          GatewayIntentBits.MessageContent,
          GatewayIntentBits.DirectMessages,
        ],
        // DM channels are not in the cache until a message arrives in one.
        partials: [Partials.Channel, Partials.Message],
        // A nonce Discord enforces: a send discord.js retries after a timeout is not posted twice.
        enforceNonce: true,
        // The agent's text never pings @everyone, roles or people by accident.
        allowedMentions: { parse: [] },
        // One gateway message may not run past DISCORD_MAX_MESSAGE_BYTES.
        ws: { buildStrategy: (manager) => cappedShards(new SimpleShardingStrategy(manager)) },
        rest: {
          ...(opts.apiRoot ? { api: opts.apiRoot.replace(/\/+$/, '') } : {}),
          rejectOnRateLimit: (info) => info.retryAfter > MAX_INLINE_RATE_LIMIT_MS,
        },
      });
      held = [];
      c.on(Events.MessageCreate, (msg) => {
        if (!c.isReady()) return;
        oversized = 0;
        if (held) held.push(msg);
        // One at a time, in arrival order: a slow download must not let a later message be stored first.
        else live = live.then(() => handleMessage(c, msg).catch((err) => logHandleError(msg, err)));
      });
      c.on(Events.ShardError, (err) => {
        if ((err as { code?: unknown }).code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return;
        const problem = `the server sent a message over ${formatBytes(DISCORD_MAX_MESSAGE_BYTES)}`;
        const apiHint = opts.apiRoot ? `, and DISCORD_API_URL (${opts.apiRoot})` : '';
        log.warn({ maxBytes: DISCORD_MAX_MESSAGE_BYTES }, 'Discord sent an oversized message; the gateway reconnects');
        setHealthy(false, `disconnected: ${problem}; reconnecting`);
        // Told once per run of drops: a message that arrives starts the count over.
        if (++oversized === REPEATS) {
          opts.notifyOwner?.(
            `Discord: ${problem}, ${REPEATS} times in a row; NanoClaw keeps reconnecting. ` +
              `Check any proxy between NanoClaw and Discord${apiHint}.`,
          );
        }
      });
      c.on(Events.ShardDisconnect, (e) => setHealthy(false, `Discord gateway closed (${e.code}); reconnecting`));
      c.on(Events.ShardReconnecting, () => setHealthy(false, 'Discord gateway reconnecting'));
      c.on(Events.ShardResume, () => setHealthy(true, c.user ? `@${c.user.username}` : undefined));
      // A new session (not a resume) may have missed messages.
      c.on(Events.ShardReady, () => {
        setHealthy(true, c.user ? `@${c.user.username}` : undefined);
        // Not on the first session: connect() catches up once that is ready.
        if (client === c && c.isReady()) {
          held ??= [];
          live = live.then(() => catchUp(c));
        }
      });
      c.on(Events.Error, (err) => log.warn({ err: describe(err) }, 'Discord client error'));
      const ready = new Promise<void>((resolve) => c.once(Events.ClientReady, () => resolve()));
      try {
        await c.login(opts.token);
        await ready;
      } catch (err) {
        await c.destroy().catch(() => {});
        events = null;
        held = null;
        throw explainStartError(err, opts.apiRoot);
      }
      client = c;
      setHealthy(true, `@${c.user!.username}`);
      log.info({ bot: c.user!.username }, 'Discord connected');
      if (c.isReady()) await (live = live.then(() => catchUp(c)));
      else held = null;
    },

    async sendMessage(jid, text, sendOpts) {
      const c = client;
      if (!c) throw new Error('Discord is not connected; the message will be sent once it reconnects.');
      stopTyping(jid);
      const channel = await channelFor(c, jid);
      const pieces = splitDiscordText(text);
      const key = `${jid}\u0000${text}`;
      const id = sendOpts?.outboxId;
      // Fixed per outbox item and piece: Discord refuses a second message with the same enforced nonce.
      const nonceOf = (i: number) => (id === undefined ? undefined : outboxNonce(id, i));
      // Discord forgets a nonce after a few minutes; the channel's history does not.
      const there = id !== undefined && sendOpts?.maybeSent ? await noncesInHistory(c, channel) : new Set<string>();
      try {
        for (let i = sentPieces.get(key) ?? 0; i < pieces.length; i++) {
          const nonce = nonceOf(i);
          if (nonce && there.has(nonce)) log.info({ jid, nonce }, 'Discord: posted before the restart; not sent again');
          else await channel.send({ content: pieces[i]!, ...(nonce ? { nonce, enforceNonce: true } : {}) });
          remember(key, i + 1);
        }
        sentPieces.delete(key);
      } catch (err) {
        if (err instanceof RateLimitError)
          throw new RateLimitedError(
            `Discord asked to wait ${Math.ceil(err.retryAfter / 1000)} s before sending here again.`,
            err.retryAfter,
          );
        if (err instanceof DiscordAPIError && err.status === 429)
          throw new RateLimitedError('Discord rate limit: waiting before sending here again.', 5_000);
        throw err;
      }
    },

    async setTyping(jid, on) {
      stopTyping(jid);
      const c = client;
      if (!on || !c || !discordTarget(jid)) return;
      const send = async () => {
        try {
          await (await channelFor(c, jid)).sendTyping();
        } catch (err) {
          log.debug({ jid, err: describe(err) }, 'Discord typing failed');
        }
      };
      const started = Date.now();
      const timer = setInterval(
        () => (Date.now() - started > TYPING_MAX_MS ? stopTyping(jid) : void send()),
        TYPING_REFRESH_MS,
      );
      timer.unref();
      typing.set(jid, timer);
      await send();
    },

    async disconnect() {
      const c = client;
      if (!c) return;
      for (const jid of [...typing.keys()]) stopTyping(jid);
      client = null;
      await c.destroy();
      setHealthy(false, 'disconnected');
      log.info('Discord disconnected');
    },
  };
}

/** Discord's nonce (at most 25 characters) for piece `piece` of outbox item `id`. */
export function outboxNonce(id: number, piece: number): string {
  return `nc${id}.${piece}`;
}

function channelName(msg: DjsMessage): string | undefined {
  const ch = msg.channel;
  if (ch.type === ChannelType.DM) return undefined;
  const guild = msg.guild?.name;
  const name = 'name' in ch ? ch.name : undefined;
  return guild && name ? `${guild} #${name}` : (name ?? undefined);
}

function explainStartError(err: unknown, apiRoot: string | undefined): Error {
  const e = err as { code?: string | number; status?: number; message?: string };
  if (e.code === 'TokenInvalid' || e.status === 401 || e.code === 4004) return new Error(DISCORD_TOKEN_REJECTED);
  if (e.code === 'DisallowedIntents' || e.code === 4014) return new Error(DISCORD_INTENTS_REFUSED);
  if (!(err instanceof DiscordAPIError)) {
    const where = apiRoot ? `DISCORD_API_URL (${apiRoot})` : 'the network connection';
    return new Error(`Could not reach Discord (${describe(err)}): check ${where}.`, { cause: err });
  }
  return err;
}

/** One line about an error, without the token (discord.js never puts it in messages). */
function describe(err: unknown): string {
  if (err instanceof DiscordAPIError) return `${err.status} ${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Lowers each shard's WebSocket cap from `ws`'s 100 MB default: @discordjs/ws passes `ws` only a handshake timeout
 * and has no option for it, so as a shard takes a new connection its receiver's cap is set when it opens, before
 * any message is read. Past it `ws` closes with 1009 and the shard reconnects (resumes) as after any drop.
 */
function cappedShards(strategy: SimpleShardingStrategy, maxBytes = DISCORD_MAX_MESSAGE_BYTES): SimpleShardingStrategy {
  type Ws = { once(event: 'open', listener: () => void): unknown; _receiver?: { _maxPayload?: number } };
  const spawn = strategy.spawn.bind(strategy);
  strategy.spawn = async (shardIds) => {
    await spawn(shardIds);
    for (const shard of (strategy as unknown as { shards: Map<number, object> }).shards.values()) {
      let current = (shard as { connection?: Ws | null }).connection ?? null;
      Object.defineProperty(shard, 'connection', {
        configurable: true,
        enumerable: true,
        get: () => current,
        set: (ws: Ws | null) => {
          current = ws;
          ws?.once('open', () => {
            if (typeof ws._receiver?._maxPayload === 'number') ws._receiver._maxPayload = maxBytes;
          });
        },
      });
    }
  };
  return strategy;
}
