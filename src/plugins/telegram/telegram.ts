// The Telegram channel: a bot account, long polling through grammY, chats as
// `tg:<chat id>`. The bot speaks as itself, so replies need no name prefix.
// Media from registered chats is saved into the group's inbox under names we
// generate; the user's file name is only ever shown as text.
import fs from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../../kit/bounded.js';
import { createRequire } from 'node:module';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { autoRetry } from '@grammyjs/auto-retry';
import { apiThrottler } from '@grammyjs/transformer-throttler';
import { Bot, GrammyError, HttpError, InlineKeyboard, InputFile, type Transformer } from 'grammy';
import type { CallbackQuery, Chat, Message as TgMessage, Update, User, UserFromGetMe } from 'grammy/types';
import type { Logger } from '../../core/logger.js';
import {
  MediaRefused,
  MediaTooLarge,
  NO_MEDIA_NOTE,
  REFUSED_NOTE,
  type MediaStore,
} from '../../core/channels/plugin.js';
import {
  RateLimitedError,
  type Attachment,
  type ButtonAnswer,
  type Channel,
  type ChannelEvents,
  type ChannelPacing,
  type ChatInfo,
  type Message,
  type MessageButton,
} from '../../core/types.js';
import { displayName, splitText } from '../../kit/text.js';
import { isParseError, TELEGRAM_TEXT_LIMIT, toMarkdownV2 } from './format.js';
import { telegramChatId, telegramJid } from './jids.js';

export interface TelegramChannelOptions {
  token: string;
  /** A self-hosted Bot API server (TELEGRAM_API_ROOT); default Telegram's. */
  apiRoot?: string;
  assistantName: string;
  logger: Logger;
  media?: MediaStore;
  /** How long one getUpdates call waits for news. Default 30. */
  pollingTimeoutSeconds?: number;
  /** Largest file saved from a chat. Default 20 MB, the most the Bot API serves. */
  maxDownloadBytes?: number;
  /** Tell the owner something is wrong (the Bot API's answers dropped again and again). */
  notifyOwner?(text: string): void;
  /** Is this Telegram user id the owner? Their messages are marked fromMe. Decided by id, never by name. */
  isOwner?(userId: string): boolean;
}

export const TELEGRAM_TOKEN_REJECTED =
  'Telegram rejected TELEGRAM_BOT_TOKEN: get a token from @BotFather and set TELEGRAM_BOT_TOKEN (or run `nanoclaw auth telegram`)';

const DEFAULT_API_ROOT = 'https://api.telegram.org';
const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 120_000;
// Telegram shows a chat action for about 5 s; refresh it while the agent works.
const TYPING_REFRESH_MS = 4_000;
const TYPING_MAX_MS = 30 * 60_000; // a safety net: the host ends typing when a turn ends
const MAX_POLL_BACKOFF_MS = 30_000;
/** The most one Bot API answer may take (100 updates are far less); past it the connection is dropped. */
const MAX_ANSWER_BYTES = 10 * 1024 * 1024;
/** Oversized answers in a row that mean something is wrong with the server, not a one-off. */
const REPEATS = 3;
// Some Bot API servers answer getUpdates at once instead of holding it open;
// without a pause an idle bot would ask hundreds of times a second.
const EMPTY_POLL_FLOOR_MS = 1_000;

// grammY types its signals with an old polyfill; at runtime it takes any AbortSignal.
type GrammySignal = NonNullable<Parameters<Bot['api']['getUpdates']>[1]>;
const asGrammySignal = (s: AbortSignal) => s as unknown as GrammySignal;

/** The Bot API's limits: about one message a second per chat, 20 a minute per group, 30 a second overall. */
export const TELEGRAM_PACING: ChannelPacing = {
  perChatMs: 1_000,
  perGroupChatPerMinute: 20,
  perChannelPerSecond: 30,
  // Group and supergroup ids are negative.
  isGroupChat: (jid) => jid.startsWith('tg:-'),
};

export { telegramChatId, telegramJid };

/** A wait longer than the in-channel retry takes: the outbox holds the message and honours it. */
function floodWait(err: unknown): unknown {
  const retryAfter = err instanceof GrammyError && err.error_code === 429 ? err.parameters.retry_after : undefined;
  return retryAfter
    ? new RateLimitedError(
        `Telegram asked to wait ${retryAfter} s before sending to this chat again (flood control).`,
        retryAfter * 1000,
      )
    : err;
}
export function createTelegramChannel(opts: TelegramChannelOptions): Channel {
  const log = opts.logger;
  const apiRoot = (opts.apiRoot || DEFAULT_API_ROOT).replace(/\/+$/, '');
  const pollTimeout = opts.pollingTimeoutSeconds ?? 30;
  const maxBytes = opts.maxDownloadBytes ?? MAX_DOWNLOAD_BYTES;

  let bot: Bot | null = null;
  let me: UserFromGetMe | null = null;
  let events: ChannelEvents | null = null;
  let stop: AbortController | null = null;
  let polling: Promise<void> | null = null;
  let healthy = false;
  // First update not yet handed to the host. getUpdates with this offset tells
  // Telegram that everything before it may be forgotten.
  let offset = 0;
  const knownChats = new Map<string, string>();
  const typing = new Map<string, NodeJS.Timeout>();

  function setHealthy(ok: boolean, detail?: string): void {
    if (ok === healthy) return;
    healthy = ok;
    events?.onState?.({ connected: ok, detail });
  }

  function reportChat(chat: Chat): void {
    const info: ChatInfo = {
      jid: telegramJid(chat.id),
      name: chatName(chat),
      channel: 'telegram',
      isGroup: chat.type !== 'private',
    };
    const key = `${info.name}\u0000${info.isGroup}`;
    if (knownChats.get(info.jid) === key) return;
    knownChats.set(info.jid, key);
    events?.onChat(info);
  }

  async function handleMessage(b: Bot, msg: TgMessage): Promise<void> {
    if (!me || !events || msg.from?.id === me.id) return;
    const chatJid = telegramJid(msg.chat.id);
    reportChat(msg.chat);

    const media = mediaOf(msg);
    let text = msg.text ?? msg.caption ?? media?.placeholder ?? otherContent(msg) ?? '';
    // Service messages (joins, pins, title changes) carry nothing to store.
    if (!text) return;

    const attachments: Attachment[] = [];
    const inbox = media && opts.media?.inboxDirFor(chatJid);
    if (media && !opts.media) text += NO_MEDIA_NOTE;
    if (media && inbox) {
      try {
        attachments.push({ kind: media.kind, path: await download(b, media, inbox), mimeType: media.mimeType });
      } catch (err) {
        if (err instanceof MediaTooLarge) {
          text += ` (not saved: larger than ${Math.round(maxBytes / 1024 / 1024)} MB)`;
        } else if (err instanceof MediaRefused) {
          log.warn({ chatJid, messageId: msg.message_id, err: err.message }, 'Refused to save a Telegram attachment');
          text += REFUSED_NOTE;
        } else {
          log.warn({ chatJid, messageId: msg.message_id, err: describe(err) }, 'Could not save a Telegram attachment');
          text += ' (could not be saved)';
        }
      }
    }

    const from = msg.sender_chat ?? msg.from;
    // A user (not a channel or group posting as itself) whose id is the owner's.
    const fromOwner = !msg.sender_chat && !!msg.from && !!opts.isOwner?.(String(msg.from.id));
    events.onMessage({
      id: String(msg.message_id),
      chatJid,
      sender: from ? telegramJid(from.id) : chatJid,
      senderName: msg.sender_chat ? chatName(msg.sender_chat) : msg.from ? personName(msg.from) : '',
      text,
      timestamp: new Date(msg.date * 1000).toISOString(),
      fromMe: fromOwner,
      fromAssistant: false,
      replyTo: replyOf(msg),
      ...(mentionsBot(msg, me) ? { mentionsAssistant: true } : {}),
      ...(repliesToBot(msg, me) ? { repliesToAssistant: true } : {}),
      ...(attachments.length ? { attachments } : {}),
    });
  }

  async function download(b: Bot, { mimeType, fileName, ext, ...media }: MediaRef, inbox: string): Promise<string> {
    if ((media.size ?? 0) > maxBytes) throw new MediaTooLarge();
    const file = await b.api.getFile(media.fileId);
    if ((file.file_size ?? 0) > maxBytes) throw new MediaTooLarge();
    const filePath = file.file_path;
    if (!filePath) throw new Error('Telegram returned no file path');
    const signal = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
    return opts.media!.save(inbox, {
      mimeType,
      fileName,
      ext,
      open: () => openFile(filePath, signal),
      maxBytes,
      signal,
    });
  }

  async function openFile(filePath: string, signal: AbortSignal): Promise<Readable> {
    // A self-hosted Bot API server in --local mode answers with a path on its own disk.
    if (path.isAbsolute(filePath)) return fs.createReadStream(filePath);
    const url = `${apiRoot}/file/bot${opts.token}/${filePath.split('/').map(encodeURIComponent).join('/')}`;
    const res = await fetch(url, { signal });
    if (!res.ok || !res.body) throw new Error(`file download answered HTTP ${res.status}`);
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }

  async function poll(b: Bot, signal: AbortSignal): Promise<void> {
    let failures = 0;
    let oversized = 0;
    while (!signal.aborted) {
      let updates: Update[];
      const asked = Date.now();
      try {
        updates = await b.api.getUpdates(
          { offset, timeout: pollTimeout, allowed_updates: ['message', 'callback_query'] },
          asGrammySignal(signal),
        );
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof GrammyError && err.error_code === 401) {
          log.error(TELEGRAM_TOKEN_REJECTED);
          setHealthy(false, TELEGRAM_TOKEN_REJECTED);
          return;
        }
        failures++;
        oversized = isOversized(err) ? oversized + 1 : 0;
        if (oversized === REPEATS) {
          opts.notifyOwner?.(
            `Telegram: ${describe(err)}, ${REPEATS} times in a row; NanoClaw keeps asking again. ` +
              `Check the Bot API server (TELEGRAM_API_ROOT=${apiRoot}).`,
          );
        }
        const waitMs = Math.min(MAX_POLL_BACKOFF_MS, 1000 * 2 ** (failures - 1));
        log.warn({ err: describe(err), retryInMs: waitMs }, 'Telegram getUpdates failed');
        setHealthy(false, `Telegram unreachable: ${describe(err)}`);
        await sleep(waitMs, undefined, { signal }).catch(() => {});
        continue;
      }
      failures = 0;
      oversized = 0;
      setHealthy(true, `@${b.botInfo.username}`);
      if (!updates.length && Date.now() - asked < pollTimeout * 1000) {
        await sleep(EMPTY_POLL_FLOOR_MS, undefined, { signal }).catch(() => {});
        continue;
      }
      // A fetched batch is always handed over in full, even when a stop arrives
      // meanwhile; the offset moves past an update only once the host has it.
      for (const update of updates) {
        try {
          await b.handleUpdate(update);
        } catch (err) {
          log.error({ updateId: update.update_id, err: describe(err) }, 'Could not handle a Telegram update');
        }
        offset = update.update_id + 1;
      }
    }
  }

  function stopTyping(jid: string): void {
    const timer = typing.get(jid);
    if (timer) clearInterval(timer);
    typing.delete(jid);
  }

  async function sendChunk(b: Bot, chatId: string, chunk: string, keyboard?: InlineKeyboard): Promise<void> {
    const markup = keyboard ? { reply_markup: keyboard } : {};
    try {
      await b.api.sendMessage(chatId, toMarkdownV2(chunk), { parse_mode: 'MarkdownV2', ...markup });
    } catch (err) {
      if (!(err instanceof GrammyError && err.error_code === 400 && isParseError(err.description))) throw err;
      log.warn({ chatId, description: err.description }, 'Telegram could not parse MarkdownV2; sending plain text');
      await b.api.sendMessage(chatId, chunk, markup);
    }
  }

  /**
   * A tap on one of our inline buttons. Who tapped is Telegram's from.id, judged
   * by the owner rule; the host decides what the tap means. The tapper always
   * gets an answer, so their client stops spinning.
   */
  async function handleCallback(b: Bot, query: CallbackQuery): Promise<void> {
    const msg = query.message;
    const answer = (text: string) =>
      b.api
        .answerCallbackQuery(query.id, { text: text.slice(0, 200) })
        .catch((err) => log.warn({ err: describe(err) }, 'Could not answer a Telegram button tap'));
    if (!events?.onButton || !msg || query.data === undefined)
      return void (await answer('This button no longer does anything.'));
    const chatJid = telegramJid(msg.chat.id);
    let result: ButtonAnswer;
    try {
      result = await events.onButton({
        chatJid,
        action: query.data,
        fromOwner: !!opts.isOwner?.(String(query.from.id)),
        sender: telegramJid(query.from.id),
        senderName: personName(query.from),
      });
    } catch (err) {
      log.error({ chatJid, err: describe(err) }, 'Could not handle a Telegram button tap');
      return void (await answer('That did not work: answer by typing the code in the message instead.'));
    }
    await answer(result.notice);
    if (!result.done) return;
    const chatId = String(msg.chat.id);
    // The keyboard goes first, so the request cannot be tapped again; then the outcome is added to the text.
    await b.api
      .editMessageReplyMarkup(chatId, msg.message_id)
      .catch((err) =>
        log.warn({ chatJid, err: describe(err) }, 'Could not remove the buttons from a Telegram message'),
      );
    if (!('text' in msg) || !msg.text) return;
    await b.api
      .editMessageText(chatId, msg.message_id, `${msg.text}\n\n${result.done}`, { entities: msg.entities })
      .catch((err) => log.warn({ chatJid, err: describe(err) }, 'Could not add the outcome to a Telegram message'));
  }

  return {
    name: 'telegram',
    sharesUserAccount: false,
    pacing: TELEGRAM_PACING,

    ownsJid: (jid) => telegramChatId(jid) !== null,

    isConnected: () => bot !== null && healthy,

    async connect(ev) {
      if (bot) return;
      if (!opts.token.trim()) throw new Error(TELEGRAM_TOKEN_REJECTED.replace('rejected', 'needs'));
      events = ev;
      const capped = cappedFetch(MAX_ANSWER_BYTES);
      const b = new Bot(opts.token, { client: { apiRoot, timeoutSeconds: pollTimeout + 30, fetch: capped } });
      // Typing is cosmetic and cheap: only real messages wait for the rate limiter.
      const throttle = throttledStart(apiThrottler());
      b.api.config.use((prev, method, payload, signal) =>
        method === 'sendChatAction' ? prev(method, payload, signal) : throttle(prev, method, payload, signal),
      );
      // Installed last, so it wraps the throttler and each retry is throttled too.
      // Long waits and network failures are left to the caller's outbox.
      b.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowHttpErrors: true }));
      try {
        me = await b.api.getMe();
        // A bot with a webhook cannot long-poll; pending updates are kept.
        await b.api.deleteWebhook({ drop_pending_updates: false });
      } catch (err) {
        me = null;
        throw explainStartError(err, apiRoot);
      }
      b.botInfo = me;
      b.on('message', (ctx) => handleMessage(b, ctx.msg));
      b.on('callback_query', (ctx) => handleCallback(b, ctx.callbackQuery));
      bot = b;
      stop = new AbortController();
      setHealthy(true, `@${me.username}`);
      log.info({ bot: me.username }, 'Telegram connected');
      polling = poll(b, stop.signal);
    },

    async sendMessage(jid, text, sendOpts) {
      const b = bot;
      if (!b || stop?.signal.aborted)
        throw new Error('Telegram is not connected; the message will be sent once it reconnects.');
      const chatId = telegramChatId(jid);
      if (!chatId) throw new Error(`Not a Telegram chat: ${jid}`);
      // Telegram ends the typing status when the bot speaks; so do we.
      stopTyping(jid);
      try {
        const chunks = splitText(text, TELEGRAM_TEXT_LIMIT);
        // A button Telegram would refuse is left off, so the text still goes out (its typed answer works).
        const buttons =
          sendOpts?.buttons?.filter((x) => Buffer.byteLength(x.action, 'utf8') <= MAX_CALLBACK_DATA) ?? [];
        if (buttons.length < (sendOpts?.buttons?.length ?? 0))
          log.warn({ jid }, 'Left off buttons whose action is over 64 bytes');
        const keyboard = buttons.length ? inlineKeyboard(buttons) : undefined;
        // The buttons go under the last part, after everything they answer.
        for (const [i, chunk] of chunks.entries())
          await sendChunk(b, chatId, chunk, i === chunks.length - 1 ? keyboard : undefined);
      } catch (err) {
        throw floodWait(err);
      }
    },

    async sendMedia(jid, media, caption) {
      const b = bot;
      if (!b || stop?.signal.aborted)
        throw new Error('Telegram is not connected; the file will be sent once it reconnects.');
      const chatId = telegramChatId(jid);
      if (!chatId) throw new Error(`Not a Telegram chat: ${jid}`);
      stopTyping(jid);
      // A caption is limited to 1024 characters; a longer text follows the file as messages.
      const short = caption.length <= 1024 ? caption : '';
      const file = new InputFile(media.path, media.fileName);
      try {
        if (/^image\/(png|jpeg|webp)$/.test(media.mimeType))
          await b.api.sendPhoto(chatId, file, short ? { caption: short } : {});
        else await b.api.sendDocument(chatId, file, short ? { caption: short } : {});
        if (!short && caption)
          for (const chunk of splitText(caption, TELEGRAM_TEXT_LIMIT)) await sendChunk(b, chatId, chunk);
      } catch (err) {
        throw floodWait(err);
      }
    },

    async setTyping(jid, on) {
      stopTyping(jid);
      const b = bot;
      const chatId = telegramChatId(jid);
      if (!on || !b || !chatId || stop?.signal.aborted) return;
      const send = () =>
        b.api
          .sendChatAction(chatId, 'typing')
          .catch((err) => log.debug({ jid, err: describe(err) }, 'sendChatAction failed'));
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
      const b = bot;
      if (!b || !stop) return;
      for (const jid of [...typing.keys()]) stopTyping(jid);
      stop.abort();
      await polling;
      // Confirm what the host has, so the next start does not receive it again.
      if (offset > 0) {
        await b.api
          .getUpdates({ offset, limit: 1, timeout: 0 }, asGrammySignal(AbortSignal.timeout(5_000)))
          .catch((err) =>
            log.warn({ err: describe(err) }, 'Could not confirm Telegram updates; some may arrive again on next start'),
          );
      }
      bot = null;
      me = null;
      polling = null;
      setHealthy(false, 'disconnected');
      log.info('Telegram disconnected');
    },
  };
}

/** Telegram refuses a message whose button carries more than 64 bytes of callback_data. */
const MAX_CALLBACK_DATA = 64;

/** One row of buttons; Telegram hands back each one's callback_data when tapped. */
function inlineKeyboard(buttons: readonly MessageButton[]): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  for (const button of buttons) keyboard.text(button.label, button.action);
  return keyboard;
}

function explainStartError(err: unknown, apiRoot: string): Error {
  // Telegram answers 401 for a wrong token and 404 for a malformed one.
  if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404))
    return new Error(TELEGRAM_TOKEN_REJECTED);
  if (err instanceof HttpError) {
    const where =
      apiRoot === DEFAULT_API_ROOT ? 'the network connection' : 'the network connection and TELEGRAM_API_ROOT';
    return new Error(`Could not reach the Telegram Bot API at ${apiRoot} (${describe(err)}): check ${where}.`, {
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

const OVERSIZED = 'ETOOLARGE';

/**
 * grammY's own HTTP client (node-fetch, resolved from grammY, so requests go out
 * as before) with a ceiling on each answer: past it the body fails and its
 * connection is closed, instead of being read to the end.
 */
/**
 * The rate limiter as a gate: a call waits for its slot, then runs outside the limiter. Inside it, the
 * answer came back only once Bottleneck had released the slot (a timer turn per limiter, two for a
 * chat), and for a reply that is time in the window where Telegram has it and the outbox does not know.
 * The slot still spaces the starts; what it no longer does is hold a second call to a chat while one is
 * out, which the outbox does already (one send at a time per chat).
 */
export function throttledStart(throttle: Transformer): Transformer {
  return async (prev, method, payload, signal) => {
    let go!: () => void;
    const slot = new Promise<void>((resolve) => (go = resolve));
    const held = throttle(
      async () => {
        go();
        return { ok: true, result: true } as never;
      },
      method,
      payload,
      signal,
    );
    // It fails only before the slot (an aborted signal): then so does the call.
    await Promise.race([slot, held]);
    held.catch(() => {});
    return prev(method, payload, signal);
  };
}

function cappedFetch(maxBytes: number): typeof fetch {
  const fromHere = createRequire(import.meta.url);
  const nodeFetch = createRequire(fromHere.resolve('grammy'))('node-fetch') as NodeFetchModule;
  const base = nodeFetch.default ?? (nodeFetch as unknown as NodeFetchModule['default']);
  return (async (url: string, init?: { signal?: AbortSignal }) => {
    // Our own signal, following grammY's: aborting it is what closes node-fetch's connection.
    const conn = new AbortController();
    const outer = init?.signal;
    if (outer?.aborted) conn.abort();
    else outer?.addEventListener('abort', () => conn.abort(), { once: true });
    const res = await base(url, { ...init, signal: conn.signal });
    let total = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        total += chunk.length;
        if (total <= maxBytes) return done(null, chunk);
        done(Object.assign(new Error(`an answer over ${maxBytes} bytes`), { code: OVERSIZED }));
        // After the body failed with our reason, so that reason is what grammY reports.
        setImmediate(() => conn.abort());
      },
    });
    res.body.on('error', (err: Error) => counted.destroy(err));
    return new nodeFetch.Response(res.body.pipe(counted), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
      url: res.url,
    });
  }) as unknown as typeof fetch;
}

interface NodeFetchResponse {
  body: Readable;
  status: number;
  statusText: string;
  headers: unknown;
  url: string;
}
interface NodeFetchModule {
  default: (url: string, init?: object) => Promise<NodeFetchResponse>;
  Response: new (body: Readable, init: object) => NodeFetchResponse;
}

/** node-fetch refused an answer past MAX_ANSWER_BYTES. */
function isOversized(err: unknown): boolean {
  // Bare inside grammY's transformers, wrapped in an HttpError outside them.
  const e = err instanceof HttpError ? err.error : err;
  return (e as { code?: string } | undefined)?.code === OVERSIZED;
}

/** One line about an error, without the token (grammY's messages never include it). */
function describe(err: unknown): string {
  if (err instanceof GrammyError) return `${err.error_code}: ${err.description}`;
  // node-fetch's own words carry the URL, and so the token.
  if (isOversized(err)) return `an answer was larger than ${formatBytes(MAX_ANSWER_BYTES)}; the connection was dropped`;
  if (err instanceof HttpError) {
    const cause = err.error instanceof Error ? err.error.message : '';
    return cause ? `${err.message} ${cause}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function personName(u: Pick<User, 'first_name' | 'last_name' | 'username'>): string {
  const full = [u.first_name, u.last_name].filter(Boolean).join(' ').trim();
  return full || (u.username ? `@${u.username}` : '');
}

function chatName(chat: Chat): string {
  return 'title' in chat && chat.title ? chat.title : personName(chat as Chat.PrivateChat);
}

/** Did the user @mention the bot's own account (as Telegram marked it, not as the text merely reads)? */
function mentionsBot(msg: TgMessage, me: UserFromGetMe): boolean {
  const source = msg.text ?? msg.caption ?? '';
  const entities = msg.entities ?? msg.caption_entities ?? [];
  const handle = `@${me.username}`.toLowerCase();
  return entities.some(
    (e) =>
      (e.type === 'mention' && source.slice(e.offset, e.offset + e.length).toLowerCase() === handle) ||
      (e.type === 'text_mention' && e.user?.id === me.id),
  );
}

/** Is this a reply to one of the bot's messages? (In forum topics everything "replies" to the topic's opening.) */
function repliesToBot(msg: TgMessage, me: UserFromGetMe): boolean {
  const reply = msg.reply_to_message;
  return reply?.from?.id === me.id && !reply.forum_topic_created;
}

function replyOf(msg: TgMessage): Message['replyTo'] {
  const r = msg.reply_to_message;
  // In forum topics every message "replies" to the topic's opening service message.
  if (!r || r.forum_topic_created) return null;
  return {
    id: String(r.message_id),
    text: r.text ?? r.caption ?? mediaOf(r)?.placeholder,
    sender: r.from ? telegramJid(r.from.id) : undefined,
  };
}

interface MediaRef {
  kind: Attachment['kind'];
  fileId: string;
  size?: number;
  mimeType: string;
  /** The sender's; only a harmless extension of it is kept. */
  fileName?: string;
  /** When neither fileName nor mimeType gives one; default bin. */
  ext?: string;
  /** The message text when there is no caption. */
  placeholder: string;
}

type MediaFields = Pick<
  TgMessage,
  'photo' | 'voice' | 'audio' | 'video' | 'video_note' | 'animation' | 'sticker' | 'document'
>;

function mediaOf(msg: MediaFields): MediaRef | null {
  if (msg.photo?.length) {
    const p = msg.photo.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
    return {
      kind: 'image',
      fileId: p.file_id,
      size: p.file_size,
      mimeType: 'image/jpeg',
      ext: 'jpg',
      placeholder: '[photo]',
    };
  }
  if (msg.voice) {
    const mimeType = msg.voice.mime_type ?? 'audio/ogg';
    return {
      kind: 'audio',
      fileId: msg.voice.file_id,
      size: msg.voice.file_size,
      mimeType,
      ext: 'ogg',
      placeholder: '[voice message]',
    };
  }
  if (msg.audio) {
    const a = msg.audio;
    const mimeType = a.mime_type ?? 'audio/mpeg';
    const name = displayName([a.performer, a.title].filter(Boolean).join(' - ') || a.file_name);
    return {
      kind: 'audio',
      fileId: a.file_id,
      size: a.file_size,
      mimeType,
      fileName: a.file_name,
      placeholder: name ? `[audio: ${name}]` : '[audio]',
    };
  }
  if (msg.animation) {
    const v = msg.animation;
    const mimeType = v.mime_type ?? 'video/mp4';
    return {
      kind: 'video',
      fileId: v.file_id,
      size: v.file_size,
      mimeType,
      ext: 'mp4',
      placeholder: '[GIF]',
    };
  }
  if (msg.video) {
    const v = msg.video;
    const mimeType = v.mime_type ?? 'video/mp4';
    return {
      kind: 'video',
      fileId: v.file_id,
      size: v.file_size,
      mimeType,
      ext: 'mp4',
      placeholder: '[video]',
    };
  }
  if (msg.video_note) {
    const v = msg.video_note;
    return {
      kind: 'video',
      fileId: v.file_id,
      size: v.file_size,
      mimeType: 'video/mp4',
      ext: 'mp4',
      placeholder: '[video message]',
    };
  }
  if (msg.sticker) {
    const s = msg.sticker;
    const [mimeType, ext] = s.is_animated
      ? ['application/x-tgsticker', 'tgs']
      : s.is_video
        ? ['video/webm', 'webm']
        : ['image/webp', 'webp'];
    const emoji = displayName(s.emoji, 16);
    return {
      kind: 'sticker',
      fileId: s.file_id,
      size: s.file_size,
      mimeType,
      ext,
      placeholder: emoji ? `[sticker ${emoji}]` : '[sticker]',
    };
  }
  if (msg.document) {
    const d = msg.document;
    const mimeType = d.mime_type ?? 'application/octet-stream';
    const name = displayName(d.file_name);
    return {
      kind: 'document',
      fileId: d.file_id,
      size: d.file_size,
      mimeType,
      fileName: d.file_name,
      placeholder: name ? `[document: ${name}]` : '[document]',
    };
  }
  return null;
}

/** Text for content that has no file to save. */
function otherContent(msg: TgMessage): string | null {
  if (msg.venue) return `[venue: ${displayName(`${msg.venue.title}, ${msg.venue.address}`)}]`;
  if (msg.location) return `[location: ${msg.location.latitude}, ${msg.location.longitude}]`;
  if (msg.contact) return `[contact: ${displayName(`${personName(msg.contact)} ${msg.contact.phone_number}`)}]`;
  if (msg.poll) return `[poll: ${displayName(msg.poll.question, 300)}]`;
  return null;
}
