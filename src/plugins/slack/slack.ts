// The Slack channel: a bot user (xoxb token) through Bolt, chats as
// `sl:<conversation id>`. Events arrive by Socket Mode or the Events API (see
// receiver.ts) and go through one handler; replies go out with chat.postMessage.
// The bot speaks as itself, so replies need no name prefix. Thread replies
// belong to their channel's conversation; the assistant answers in the channel.
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { App, LogLevel, SocketModeReceiver, webApi, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../core/logger.js';
import {
  RateLimitedError,
  type Attachment,
  type Channel,
  type ChannelEvents,
  type ChannelPacing,
  type Message,
} from '../../core/types.js';
import {
  MediaRefused,
  MediaTooLarge,
  NO_MEDIA_NOTE,
  REFUSED_NOTE,
  type MediaStore,
} from '../../core/channels/plugin.js';
import { displayName } from '../../kit/text.js';
import { fromSlackText, mentionsUser, splitSlackText, toMrkdwn } from './format.js';
import { slackChannelId, slackJid } from './ids.js';
import { formatBytes } from '../../kit/bounded.js';
import { createSlackReceiver, SLACK_MAX_MESSAGE_BYTES, type SlackReceiver } from './receiver.js';

export interface SlackChannelOptions {
  botToken: string;
  /** xapp-…: Socket Mode. Without it, the Events API receiver on 127.0.0.1:eventsPort. */
  appToken?: string | null;
  signingSecret?: string | null;
  eventsPort?: number;
  /** The Web API base (SLACK_API_URL), e.g. a local provider server or a proxy; default Slack's. */
  apiUrl?: string | null;
  assistantName: string;
  logger: Logger;
  media?: MediaStore;
  maxDownloadBytes?: number;
  /** Is this Slack user the owner, writing in this chat? Decided by ids, never by name. */
  isOwner?(userId: string, chatJid: string): boolean;
  /** Tell the owner something is wrong (Socket Mode dropped for oversized messages again and again). */
  notifyOwner?(text: string): void;
  /** Builds the receiver (tests may pass their own). */
  makeReceiver?: typeof createSlackReceiver;
}

export const SLACK_TOKEN_REJECTED =
  'Slack rejected SLACK_BOT_TOKEN: copy the Bot User OAuth Token (xoxb-…) from your app\'s "OAuth & Permissions" page, or run "nanoclaw auth slack".';

const DEFAULT_API_URL = 'https://slack.com/api/';
const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 120_000;
const NAME_TTL_MS = 60 * 60_000;
const SEEN_LIMIT = 2_000;
// The reaction shown on the message the assistant is working on (Slack has no typing indicator for bots).
const WORKING_REACTION = 'eyes';
// Marks our replies (message metadata) with their outbox id, and how far back a resend looks for one.
const OUTBOX_EVENT = 'nanoclaw_outbox';
const HISTORY_LOOKBACK = 100;
// Message subtypes that carry something a person wrote; edits, deletions, joins and bot posts do not.
const KEPT_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast', 'me_message']);
/** Oversized drops in a row that mean something is wrong with the server, not a one-off. */
const REPEATS = 3;

/** chat.postMessage allows about one message a second per conversation, with short bursts. */
export const SLACK_PACING: ChannelPacing = {
  perChatMs: 1_000,
  perChannelPerMinute: 300,
};

/** The fields of a Slack message event this channel reads. */
export interface SlackMessageEvent {
  type: string;
  subtype?: string;
  channel?: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  parent_user_id?: string;
  files?: SlackFile[];
}

export interface SlackFile {
  id?: string;
  name?: string;
  title?: string;
  mimetype?: string;
  filetype?: string;
  size?: number;
  mode?: string;
  url_private_download?: string;
  url_private?: string;
}

export function createSlackChannel(opts: SlackChannelOptions): Channel {
  const log = opts.logger;
  const apiUrl = withSlash(opts.apiUrl || DEFAULT_API_URL);
  const maxBytes = opts.maxDownloadBytes ?? MAX_DOWNLOAD_BYTES;
  const boltLogger = toBoltLogger(log);
  // No retries inside the client: delivery's outbox retries with backoff, and a
  // 429 comes back at once so its Retry-After is honoured there.
  const client = new webApi.WebClient(opts.botToken, {
    slackApiUrl: apiUrl,
    logger: boltLogger,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 30_000,
  });

  let app: App | null = null;
  let receiver: SlackReceiver | null = null;
  let me: { userId: string; botId: string; team: string } | null = null;
  let events: ChannelEvents | null = null;
  let healthy = false;
  let oversized = 0;
  const names = new Map<string, { name: string | undefined; at: number }>();
  const knownChats = new Map<string, string>();
  const seen = new Set<string>();
  const ownTs = new Set<string>();
  const lastInbound = new Map<string, string>();
  const working = new Map<string, string>();
  // Chunks of a long reply already accepted, so a retry after a partial failure sends only the rest.
  const partial = new Map<string, number>();

  function setHealthy(ok: boolean, detail?: string): void {
    if (ok === healthy) return;
    healthy = ok;
    events?.onState?.({ connected: ok, detail });
  }

  /** Outbox ids on the channel's latest messages (our metadata): what a send cut short by a crash may have posted. */
  async function outboxIdsInHistory(channel: string): Promise<Set<string>> {
    const res = await client.conversations
      .history({ channel, limit: HISTORY_LOOKBACK, include_all_metadata: true })
      .catch((err: unknown) => {
        // Without the history scope a resend goes blind rather than never.
        log.warn({ channel, err: describe(err) }, 'Slack: could not read recent messages before a resend');
        return { messages: [] };
      });
    const ids = (res.messages ?? []).map((m) => {
      const meta = (m as { metadata?: { event_type?: string; event_payload?: { id?: unknown } } }).metadata;
      return meta?.event_type === OUTBOX_EVENT ? String(meta.event_payload?.id ?? '') : '';
    });
    return new Set(ids.filter(Boolean));
  }

  function remember(set: Set<string>, key: string): boolean {
    if (set.has(key)) return false;
    set.add(key);
    if (set.size > SEEN_LIMIT) set.delete(set.values().next().value!);
    return true;
  }

  async function userName(id: string): Promise<string | undefined> {
    const hit = names.get(id);
    if (hit && Date.now() - hit.at < NAME_TTL_MS) return hit.name;
    let name: string | undefined;
    try {
      const res = await client.users.info({ user: id });
      const u = res.user;
      name = displayName(u?.profile?.display_name || u?.real_name || u?.profile?.real_name || u?.name) || undefined;
    } catch (err) {
      log.debug({ user: id, err: describe(err) }, 'users.info failed; showing the user id');
    }
    names.set(id, { name, at: Date.now() });
    return name;
  }

  async function reportChat(ev: SlackMessageEvent, senderName: string): Promise<void> {
    const jid = slackJid(ev.channel!);
    if (knownChats.has(jid)) return;
    const isGroup = !ev.channel!.startsWith('D');
    let name = isGroup ? undefined : senderName;
    if (isGroup) {
      try {
        const res = await client.conversations.info({ channel: ev.channel! });
        name = res.channel?.name ? `#${res.channel.name}` : undefined;
      } catch (err) {
        log.debug({ jid, err: describe(err) }, 'conversations.info failed');
      }
    }
    knownChats.set(jid, name ?? '');
    events?.onChat({ jid, name: name || jid, channel: 'slack', isGroup });
  }

  /** Is the thread's first message the bot's own? */
  async function threadIsOurs(channel: string, threadTs: string, parentUser: string | undefined): Promise<boolean> {
    if (parentUser) return parentUser === me?.userId;
    if (ownTs.has(`${channel}:${threadTs}`)) return true;
    try {
      const res = await client.conversations.replies({ channel, ts: threadTs, limit: 1 });
      const parent = res.messages?.[0];
      return !!parent && (parent.user === me?.userId || (!!parent.bot_id && parent.bot_id === me?.botId));
    } catch (err) {
      log.debug({ channel, threadTs, err: describe(err) }, 'conversations.replies failed');
      return false;
    }
  }

  async function handleEvent(ev: SlackMessageEvent): Promise<void> {
    if (!me || !events || !ev.channel || !ev.ts || !ev.user) return;
    if (!KEPT_SUBTYPES.has(ev.subtype) || ev.user === me.userId || (ev.bot_id && ev.bot_id === me.botId)) return;
    // Socket Mode and the Events API both redeliver what was not acknowledged in time.
    if (!remember(seen, `${ev.channel}:${ev.ts}`)) return;
    const chatJid = slackJid(ev.channel);
    const senderName = (await userName(ev.user)) ?? ev.user;
    await reportChat(ev, senderName);
    lastInbound.set(chatJid, ev.ts);

    const raw = ev.text ?? '';
    let text = fromSlackText(raw, {
      botUserId: me.userId,
      assistantName: opts.assistantName,
      userName: (id) => names.get(id)?.name,
    });
    const files = (ev.files ?? []).filter((f) => f.mode !== 'tombstone' && f.mode !== 'hidden_by_limit');
    const attachments: Attachment[] = [];
    const notes: string[] = [];
    const inbox = files.length ? opts.media?.inboxDirFor(chatJid) : null;
    for (const f of files) {
      const kind = kindOf(f.mimetype);
      let note = placeholder(kind, f) + (opts.media ? '' : NO_MEDIA_NOTE);
      if (inbox) {
        try {
          attachments.push({ kind, path: await download(f, inbox), mimeType: f.mimetype });
        } catch (err) {
          if (err instanceof MediaTooLarge)
            note += ` (not saved: larger than ${Math.round(maxBytes / 1024 / 1024)} MB)`;
          else if (err instanceof MediaRefused) note += REFUSED_NOTE;
          else {
            log.warn({ chatJid, file: f.id, err: describe(err) }, 'Could not save a Slack file');
            note += ' (could not be saved)';
          }
        }
      }
      notes.push(note);
    }
    if (notes.length) text = [text, ...notes].filter(Boolean).join('\n');
    if (!text) return;

    const inThread = !!ev.thread_ts && ev.thread_ts !== ev.ts;
    const toBot = inThread && (await threadIsOurs(ev.channel, ev.thread_ts!, ev.parent_user_id));
    const msg: Message = {
      id: ev.ts,
      chatJid,
      sender: `sl:${ev.user}`,
      senderName,
      text,
      timestamp: new Date(Number(ev.ts) * 1000).toISOString(),
      fromMe: !!opts.isOwner?.(ev.user, chatJid),
      fromAssistant: false,
      replyTo: inThread ? { id: ev.thread_ts!, ...(toBot ? { sender: `sl:${me.userId}` } : {}) } : null,
      ...(mentionsUser(raw, me.userId) ? { mentionsAssistant: true } : {}),
      ...(toBot ? { repliesToAssistant: true } : {}),
      ...(attachments.length ? { attachments } : {}),
    };
    events.onMessage(msg);
  }

  async function download(f: SlackFile, inbox: string): Promise<string> {
    if ((f.size ?? 0) > maxBytes) throw new MediaTooLarge();
    const url = f.url_private_download || f.url_private;
    if (!url) throw new Error('Slack gave no download address for the file');
    // The bot token goes only to Slack itself (or the configured API server), never to a link in an event.
    if (!tokenMayGoTo(url, apiUrl)) throw new Error(`refusing to send the bot token to ${new URL(url).host}`);
    const signal = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
    return opts.media!.save(inbox, {
      mimeType: f.mimetype,
      fileName: f.name,
      open: async () => {
        const res = await fetch(url, { headers: { authorization: `Bearer ${opts.botToken}` }, signal });
        if (!res.ok || !res.body) throw new Error(`file download answered HTTP ${res.status}`);
        // Without the files:read scope Slack answers with its sign-in page instead of the file.
        if (
          (res.headers.get('content-type') ?? '').startsWith('text/html') &&
          !(f.mimetype ?? '').startsWith('text/html')
        )
          throw new Error(
            'Slack answered with a web page instead of the file: add the files:read scope to the app and reinstall it',
          );
        return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      },
      maxBytes,
      signal,
    });
  }

  async function clearWorking(jid: string): Promise<void> {
    const ts = working.get(jid);
    const channel = slackChannelId(jid);
    if (!ts || !channel) return;
    working.delete(jid);
    await client.reactions
      .remove({ channel, timestamp: ts, name: WORKING_REACTION })
      .catch((err) => log.debug({ jid, err: describe(err) }, 'reactions.remove failed'));
  }

  return {
    name: 'slack',
    sharesUserAccount: false,
    pacing: SLACK_PACING,
    ownsJid: (jid) => slackChannelId(jid) !== null,
    isConnected: () => app !== null && healthy,

    async connect(ev) {
      if (app) return;
      if (!opts.botToken.trim()) throw new Error(SLACK_TOKEN_REJECTED.replace('rejected', 'needs'));
      events = ev;
      try {
        const who = await client.auth.test();
        me = { userId: String(who.user_id), botId: String(who.bot_id ?? ''), team: String(who.team ?? '') };
      } catch (err) {
        throw explainStartError(err, apiUrl);
      }
      const problem = `the server sent a message over ${formatBytes(SLACK_MAX_MESSAGE_BYTES)}`;
      receiver = (opts.makeReceiver ?? createSlackReceiver)({
        appToken: opts.appToken,
        signingSecret: opts.signingSecret,
        eventsPort: opts.eventsPort ?? 3000,
        apiUrl: opts.apiUrl ?? undefined,
        logger: boltLogger,
        onOversize: () => {
          log.warn({ maxBytes: SLACK_MAX_MESSAGE_BYTES }, 'Slack sent an oversized message; Socket Mode reconnects');
          setHealthy(false, `disconnected: ${problem}; reconnecting`);
          // Told once per run of drops: a connection that delivers an event starts the count over.
          if (++oversized === REPEATS) {
            opts.notifyOwner?.(
              `Slack: ${problem}, ${REPEATS} times in a row; NanoClaw keeps reconnecting. ` +
                `Check any proxy between NanoClaw and Slack, and SLACK_API_URL (${apiUrl}).`,
            );
          }
        },
      });
      const mode = receiver.mode === 'socket' ? 'Socket Mode' : 'Events API';
      const healthyDetail = `${me.team ? `${me.team} · ` : ''}${mode}`;
      if (receiver.receiver instanceof SocketModeReceiver) {
        receiver.receiver.client.on('connected', () => app && setHealthy(true, healthyDetail));
        receiver.receiver.client.on('slack_event', () => (oversized = 0));
      }
      const a = new App({
        token: opts.botToken,
        botId: me.botId || undefined,
        botUserId: me.userId,
        receiver: receiver.receiver,
        logger: boltLogger,
        clientOptions: { slackApiUrl: apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true },
        tokenVerificationEnabled: false,
      });
      a.event('message', async ({ event }) => handleEvent(event as unknown as SlackMessageEvent));
      a.error(async (err) => log.error({ err: describe(err) }, 'Could not handle a Slack event'));
      try {
        await (a.start as (...args: unknown[]) => Promise<unknown>)(...receiver.startArgs);
      } catch (err) {
        throw new Error(
          receiver.mode === 'http'
            ? `Could not listen for Slack events on 127.0.0.1 (${describe(err)}): set SLACK_EVENTS_PORT to a free port, or use Socket Mode (SLACK_APP_TOKEN).`
            : `Could not open Slack Socket Mode (${describe(err)}): check SLACK_APP_TOKEN (xapp-…, with the connections:write scope).`,
          { cause: err },
        );
      }
      app = a;
      setHealthy(true, healthyDetail);
      log.info({ team: me.team, mode: receiver.mode }, 'Slack connected');
    },

    async sendMessage(jid, text, sendOpts) {
      if (!app) throw new Error('Slack is not connected; the message will be sent once it reconnects.');
      const channel = slackChannelId(jid);
      if (!channel) throw new Error(`Not a Slack chat: ${jid}`);
      await clearWorking(jid);
      const chunks = splitSlackText(text);
      const key = `${jid}\u0000${crypto.createHash('sha256').update(text).digest('hex')}`;
      const id = sendOpts?.outboxKey;
      // Slack has no idempotency key: each part carries its outbox id, and a maybe-sent item is looked up first.
      const there = id && sendOpts?.maybeSent ? await outboxIdsInHistory(channel) : new Set<string>();
      try {
        for (let i = partial.get(key) ?? 0; i < chunks.length; i++) {
          const part = id ? `${id}#${i}` : undefined;
          if (part && there.has(part)) {
            log.info({ jid, part }, 'Slack: already posted before the restart; not sent again');
            partial.set(key, i + 1);
            continue;
          }
          const metadata = part ? { metadata: { event_type: OUTBOX_EVENT, event_payload: { id: part } } } : {};
          const body = { channel, text: toMrkdwn(chunks[i]!), unfurl_links: false, ...metadata };
          const res = await client.chat.postMessage(body);
          if (res.ts) remember(ownTs, `${channel}:${res.ts}`);
          partial.set(key, i + 1);
        }
        partial.delete(key);
      } catch (err) {
        const e = err as { code?: string; retryAfter?: number };
        if (e.code === webApi.ErrorCode.RateLimitedError && e.retryAfter)
          throw new RateLimitedError(
            `Slack asked to wait ${e.retryAfter} s before posting again (rate limited).`,
            e.retryAfter * 1000,
          );
        throw new Error(`Slack did not take the message: ${describe(err)}`, { cause: err });
      }
    },

    async setTyping(jid, on) {
      if (!on) return clearWorking(jid);
      const channel = slackChannelId(jid);
      const ts = lastInbound.get(jid);
      if (!app || !channel || !ts || working.get(jid) === ts) return;
      await clearWorking(jid);
      working.set(jid, ts);
      await client.reactions
        .add({ channel, timestamp: ts, name: WORKING_REACTION })
        .catch((err) =>
          log.debug({ jid, err: describe(err) }, 'reactions.add failed (add the reactions:write scope to show work)'),
        );
    },

    async disconnect() {
      const a = app;
      if (!a) return;
      app = null;
      for (const jid of [...working.keys()]) await clearWorking(jid);
      await a.stop().catch((err) => log.warn({ err: describe(err) }, 'Slack did not stop cleanly'));
      setHealthy(false, 'disconnected');
      log.info('Slack disconnected');
    },
  };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** Slack's own hosts over HTTPS, or the origin of the configured API server. */
export function tokenMayGoTo(url: string, apiUrl: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.origin === new URL(apiUrl).origin) return true;
  return u.protocol === 'https:' && (u.hostname === 'slack.com' || u.hostname.endsWith('.slack.com'));
}

function kindOf(mime: string | undefined): Attachment['kind'] {
  const m = (mime ?? '').toLowerCase();
  if (m.startsWith('image/')) return 'image';
  if (m.startsWith('audio/')) return 'audio';
  if (m.startsWith('video/')) return 'video';
  return 'document';
}

function placeholder(kind: Attachment['kind'], f: SlackFile): string {
  const name = displayName(f.name || f.title);
  const label = kind === 'image' ? 'photo' : kind;
  return name ? `[${label}: ${name}]` : `[${label}]`;
}

// Slack's filetype names where they differ from the usual extension.

function explainStartError(err: unknown, apiUrl: string): Error {
  const code = (err as { data?: { error?: string } }).data?.error;
  if (code && ['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired'].includes(code))
    return new Error(`${SLACK_TOKEN_REJECTED} (${code})`);
  const where = apiUrl === DEFAULT_API_URL ? 'the network connection' : 'the network connection and SLACK_API_URL';
  return new Error(`Could not reach the Slack Web API at ${apiUrl} (${describe(err)}): check ${where}.`, {
    cause: err,
  });
}

/** One line about an error (the Web API's errors never include the token). */
export function describe(err: unknown): string {
  const e = err as { data?: { error?: string }; message?: string };
  if (e?.data?.error) return e.data.error;
  return err instanceof Error ? err.message : String(err);
}

/** Bolt's logger over ours: its chatter goes to debug, its problems to warn/error. */
function toBoltLogger(log: Logger): BoltLogger {
  const line = (m: unknown[]) =>
    m.map((x) => (x instanceof Error ? x.message : typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
  let level = LogLevel.INFO;
  return {
    debug: (...m) => log.debug({ bolt: line(m) }, 'slack'),
    info: (...m) => log.debug({ bolt: line(m) }, 'slack'),
    warn: (...m) => log.warn({ bolt: line(m) }, 'slack'),
    error: (...m) => log.error({ bolt: line(m) }, 'slack'),
    setLevel: (l) => (level = l),
    getLevel: () => level,
    setName: () => {},
  };
}
