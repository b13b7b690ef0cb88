// The Signal channel: a signal-cli daemon the user runs (`signal-cli -a +NUMBER
// daemon --http 127.0.0.1:8080`), JSON-RPC to send, its SSE stream to receive.
// Chats are `sig:+<number>` and `sig:g:<group id>`. Media from registered chats
// is fetched from signal-cli (getAttachment) into the group's inbox under names
// we generate; the sender's file name is only ever shown as text.
import fs from 'node:fs';
import type { Logger } from '../../core/logger.js';
import {
  RateLimitedError,
  type Attachment,
  type Channel,
  type ChannelEvents,
  type ChannelPacing,
  type Message,
} from '../../core/types.js';
import { InputTooLarge } from '../../kit/bounded.js';
import {
  MediaRefused,
  MediaTooLarge,
  NO_MEDIA_NOTE,
  REFUSED_NOTE,
  type MediaStore,
} from '../../core/channels/plugin.js';
import { displayName } from '../../kit/text.js';
import { runEventStream } from './events.js';
import { SIGNAL_TEXT_LIMIT, splitText, toSignalText } from './format.js';
import { parseReceive, type InboundSignal, type SignalAttachment, type SignalReceive } from './inbound.js';
import { isSignalGroupChat, isSignalJid, signalDirectJid, signalTarget } from './jids.js';
import { createSignalRpc, DAEMON_COMMAND, SignalRpcError, SignalUnreachable, type SignalRpc } from './rpc.js';

export interface SignalChannelOptions {
  /** signal-cli's HTTP address, e.g. http://127.0.0.1:8080 (SIGNAL_CLI_URL). */
  url: string;
  /** The number signal-cli serves (SIGNAL_ACCOUNT). */
  account: string;
  /**
   * True when the account is the user's own (signal-cli linked as a device of
   * their phone): replies then say who is talking, and Note to Self is a main chat.
   */
  sharesUserAccount: boolean;
  assistantName: string;
  logger: Logger;
  media?: MediaStore;
  /** Is this number the owner? Their messages are marked fromMe. Decided by number, never by name. */
  isOwner?(number: string): boolean;
  maxDownloadBytes?: number;
  fetchImpl?: typeof fetch;
  /** Reconnect backoff of the event stream (tests shorten it). */
  minBackoffMs?: number;
  /** A file keeping the last event id across restarts, so events signal-cli got while NanoClaw was down still arrive. */
  cursorFile?: string;
  /** Tell the owner something is wrong (an event stream dropped again and again). */
  notifyOwner?(text: string): void;
}

/** Signal has no published limits; a conservative pace keeps the account clear of its spam checks. */
export const SIGNAL_PACING: ChannelPacing = {
  perChatMs: 1_000,
  jitterMs: 300,
  perGroupChatPerMinute: 20,
  perChannelPerSecond: 5,
  isGroupChat: isSignalGroupChat,
};

const MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024;
// Signal clients show typing for about 15 s; refresh it while the agent works.
const TYPING_REFRESH_MS = 10_000;
const TYPING_MAX_MS = 30 * 60_000;
// Remembered message ids, so an event the daemon hands out again after a reconnect is not taken twice.
const SEEN_MAX = 2_000;

export function createSignalChannel(opts: SignalChannelOptions): Channel {
  const log = opts.logger;
  const base = opts.url.replace(/\/+$/, '');
  const rpc: SignalRpc = createSignalRpc(base, opts.fetchImpl);
  const maxBytes = opts.maxDownloadBytes ?? MAX_DOWNLOAD_BYTES;
  let events: ChannelEvents | null = null;
  let stop: AbortController | null = null;
  let loop: Promise<void> | null = null;
  let healthy = false;
  const seen = new Set<string>();
  const knownChats = new Map<string, string>();
  const typing = new Map<string, NodeJS.Timeout>();
  // Send times of our own messages: signal-cli may echo one back as a sync message of the account.
  const ownSends = new Set<number>();
  let lastEventId: string | null = null;
  const cursor = {
    load: () => lastEventId ?? readCursor(opts.cursorFile),
    save(id: string) {
      lastEventId = id;
      if (opts.cursorFile) writeCursor(opts.cursorFile, id, log);
    },
  };

  function setHealthy(ok: boolean, detail: string): void {
    if (ok === healthy) return;
    healthy = ok;
    events?.onState?.({ connected: ok, detail });
  }

  function remember(id: string): boolean {
    if (seen.has(id)) return false;
    seen.add(id);
    if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value!);
    return true;
  }

  function reportChat(m: InboundSignal): void {
    const name = m.isGroup ? m.chatName : m.fromAccount ? undefined : m.authorName;
    const key = `${name ?? ''}\u0000${m.isGroup}`;
    if (knownChats.get(m.chatJid) === key) return;
    knownChats.set(m.chatJid, key);
    events?.onChat({ jid: m.chatJid, name, channel: 'signal', isGroup: m.isGroup });
    if (m.isGroup && !name) void nameGroup(m.chatJid, m.attachmentSource);
  }

  /** Older signal-cli versions send no group name with a message: ask for it, so the chat can be registered by name. */
  async function nameGroup(jid: string, target: InboundSignal['attachmentSource']): Promise<void> {
    if (!('groupId' in target)) return;
    const groups = await rpc
      .call<{ id?: string; name?: string }[]>('listGroups', { account: opts.account, groupId: target.groupId }, 10_000)
      .catch(() => null);
    const name = Array.isArray(groups) ? groups.find((g) => g.id === target.groupId)?.name : undefined;
    if (!name) return;
    knownChats.set(jid, `${name}\u0000true`);
    events?.onChat({ jid, name, channel: 'signal', isGroup: true });
  }

  async function handleEvent(data: string): Promise<void> {
    let payload: SignalReceive;
    try {
      payload = JSON.parse(data) as SignalReceive;
    } catch {
      log.warn({ data: data.slice(0, 200) }, 'signal-cli sent an event that is not JSON; ignored');
      return;
    }
    const m = parseReceive(payload, { account: opts.account, assistantName: opts.assistantName });
    if (!m || !events || (m.fromAccount && ownSends.has(m.timestamp)) || !remember(`${m.chatJid}\u0000${m.id}`)) return;
    reportChat(m);
    let text = m.text;
    const attachments: Attachment[] = [];
    const inbox = m.attachments.length ? opts.media?.inboxDirFor(m.chatJid) : null;
    for (const a of m.attachments) {
      const note = !opts.media ? NO_MEDIA_NOTE : inbox ? await fetchInto(inbox, m, a, attachments) : '';
      text = [text, placeholderFor(a) + note].filter(Boolean).join(' ');
    }
    const byOwner = m.fromAccount || !!opts.isOwner?.(m.author);
    const repliesToAssistant =
      !!m.quote?.byAccount && (!opts.sharesUserAccount || !!m.quote.text?.startsWith(`${opts.assistantName}:`));
    const msg: Message = {
      id: m.id,
      chatJid: m.chatJid,
      sender: signalDirectJid(m.author),
      senderName: m.authorName,
      text,
      timestamp: new Date(m.timestamp).toISOString(),
      fromMe: byOwner,
      fromAssistant: false,
      replyTo: m.quote
        ? { id: m.quote.id, text: m.quote.text, sender: m.quote.author ? signalDirectJid(m.quote.author) : undefined }
        : null,
      ...(m.mentionsAccount ? { mentionsAssistant: true } : {}),
      ...(repliesToAssistant ? { repliesToAssistant: true } : {}),
      ...(attachments.length ? { attachments } : {}),
    };
    events.onMessage(msg);
  }

  /** Saves one attachment into the inbox; answers a note for the text when it could not be saved. */
  async function fetchInto(inbox: string, m: InboundSignal, a: SignalAttachment, into: Attachment[]): Promise<string> {
    const mimeType = a.contentType || 'application/octet-stream';
    try {
      if ((a.size ?? 0) > maxBytes) throw new MediaTooLarge();
      const path = await opts.media!.save(inbox, {
        mimeType,
        open: async () => {
          // The file comes as base64 inside JSON: its answer may be a third larger than the file, no more.
          const cap = Math.ceil((maxBytes * 4) / 3) + 64 * 1024;
          const params = { account: opts.account, id: a.id, ...m.attachmentSource };
          const res = await rpc.call<{ data?: string }>('getAttachment', params, 120_000, cap).catch((err) => {
            throw err instanceof InputTooLarge ? new MediaTooLarge(err.message) : err;
          });
          if (typeof res?.data !== 'string') throw new Error('signal-cli returned no attachment data');
          return Buffer.from(res.data, 'base64');
        },
        maxBytes,
      });
      into.push({ kind: kindOf(a), path, mimeType });
      return '';
    } catch (err) {
      if (err instanceof MediaTooLarge) return ` (not saved: larger than ${Math.round(maxBytes / 1024 / 1024)} MB)`;
      if (err instanceof MediaRefused) {
        log.warn({ chatJid: m.chatJid, err: err.message }, 'Refused to save a Signal attachment');
        return REFUSED_NOTE;
      }
      log.warn({ chatJid: m.chatJid, err: (err as Error).message }, 'Could not save a Signal attachment');
      return ' (could not be saved)';
    }
  }

  function stopTyping(jid: string, tell: boolean): void {
    const timer = typing.get(jid);
    if (timer) clearInterval(timer);
    typing.delete(jid);
    const target = signalTarget(jid);
    if (timer && tell && target && healthy)
      void rpc.call('sendTyping', { account: opts.account, ...target, stop: true }).catch(() => {});
  }

  async function sendChunk(target: { recipient: string } | { groupId: string }, chunk: string): Promise<void> {
    const styled = toSignalText(chunk);
    try {
      const res = await rpc.call<{ timestamp?: number }>('send', {
        account: opts.account,
        ...target,
        message: styled.text,
        ...(styled.styles.length ? { textStyle: styled.styles } : {}),
      });
      if (typeof res?.timestamp === 'number') {
        ownSends.add(res.timestamp);
        if (ownSends.size > SEEN_MAX) ownSends.delete(ownSends.values().next().value!);
      }
    } catch (err) {
      throw explainSendError(err, opts);
    }
  }

  return {
    name: 'signal',
    sharesUserAccount: opts.sharesUserAccount,
    pacing: SIGNAL_PACING,
    ownsJid: isSignalJid,
    isConnected: () => stop !== null && healthy,
    selfJid: () => (opts.sharesUserAccount ? signalDirectJid(opts.account) : null),

    async connect(ev) {
      if (stop) return;
      events = ev;
      // A daemon that is not up yet is no reason to give up: the stream below keeps trying.
      await checkDaemon(rpc, opts).catch((err) => {
        log.warn({ err: (err as Error).message }, 'signal-cli is not answering yet');
        events?.onState?.({ connected: false, detail: (err as Error).message });
      });
      stop = new AbortController();
      loop = runEventStream({
        url: `${base}/api/v1/events`,
        signal: stop.signal,
        fetchImpl: opts.fetchImpl,
        minBackoffMs: opts.minBackoffMs,
        lastEventId: cursor,
        onRepeatedDrop: (count, problem) =>
          opts.notifyOwner?.(
            `Signal: ${problem}, ${count} times in a row; NanoClaw keeps reconnecting. ` +
              `Check the signal-cli daemon at SIGNAL_CLI_URL (${base}).`,
          ),
        onEvent: (data) =>
          handleEvent(data).catch((err) =>
            log.error({ err: (err as Error).message }, 'Could not handle a Signal event'),
          ),
        onState: (ok, detail) => {
          if (!ok) log.warn({ detail }, 'Signal event stream lost');
          setHealthy(ok, ok ? opts.account : detail);
        },
      });
      log.info({ account: opts.account }, 'Signal connected');
    },

    async sendMessage(jid, text) {
      if (!stop || stop.signal.aborted)
        throw new Error('Signal is not connected; the message will be sent once it reconnects.');
      const target = signalTarget(jid);
      if (!target) throw new Error(`Not a Signal chat: ${jid}`);
      stopTyping(jid, false);
      for (const chunk of splitText(text, SIGNAL_TEXT_LIMIT)) await sendChunk(target, chunk);
    },

    async setTyping(jid, on) {
      stopTyping(jid, !on);
      const target = signalTarget(jid);
      if (!on || !target || !stop || stop.signal.aborted) return;
      const send = () =>
        rpc
          .call('sendTyping', { account: opts.account, ...target })
          .catch((err) => log.debug({ jid, err: (err as Error).message }, 'sendTyping failed'));
      const started = Date.now();
      const timer = setInterval(
        () => (Date.now() - started > TYPING_MAX_MS ? stopTyping(jid, false) : void send()),
        TYPING_REFRESH_MS,
      );
      timer.unref();
      typing.set(jid, timer);
      await send();
    },

    async disconnect() {
      if (!stop) return;
      for (const jid of [...typing.keys()]) stopTyping(jid, false);
      stop.abort();
      await loop;
      stop = null;
      loop = null;
      setHealthy(false, 'disconnected');
      log.info('Signal disconnected');
    },
  };
}

/** Asks the daemon who it is before listening, so a wrong address or account says so at start. */
export async function checkDaemon(rpc: SignalRpc, opts: { url: string; account: string }): Promise<void> {
  try {
    await rpc.call('version', undefined, 10_000);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}. Start it with "${DAEMON_COMMAND(opts.account)}" and set SIGNAL_CLI_URL to its address (or run "nanoclaw auth signal").`,
      { cause: err },
    );
  }
}

function explainSendError(err: unknown, opts: { account: string }): Error {
  if (err instanceof SignalUnreachable)
    return new Error(`${err.message}; the message will be retried. Is "${DAEMON_COMMAND(opts.account)}" running?`);
  if (err instanceof SignalRpcError) {
    // signal-cli reports Signal's rate limiting (HTTP 413/429 from its server) as an error with this in the text.
    if (/rate ?limit/i.test(err.message))
      return new RateLimitedError(`${err.message}: Signal asked to slow down.`, 60_000);
    if (/not registered|Unregistered/i.test(err.message))
      return new Error(`${err.message}: that number is not on Signal.`);
    return err;
  }
  return err instanceof Error ? err : new Error(String(err));
}

function readCursor(file: string | undefined): string | null {
  if (!file) return null;
  try {
    return fs.readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function writeCursor(file: string, id: string, log: Logger): void {
  try {
    fs.writeFileSync(`${file}.tmp`, id, { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      'Could not save the Signal event position; a restart may replay some events',
    );
  }
}

function kindOf(a: SignalAttachment): Attachment['kind'] {
  const type = (a.contentType ?? '').toLowerCase();
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('video/')) return 'video';
  return 'document';
}

function placeholderFor(a: SignalAttachment): string {
  const kind = kindOf(a);
  if (kind === 'image') return '[photo]';
  if (kind === 'audio') return a.voiceNote ? '[voice message]' : '[audio]';
  if (kind === 'video') return '[video]';
  const name = displayName(a.filename ?? undefined);
  return name ? `[document: ${name}]` : '[document]';
}
