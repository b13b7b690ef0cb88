// The WhatsApp channel, over Baileys (WhatsApp Web's multi-device protocol).
// One socket at a time: linked by QR or pairing code, credentials kept in the
// auth folder, reconnected with backoff after any recoverable close, and left
// alone once WhatsApp logs this device out (reconnecting cannot fix that).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
// Baileys' parts, not its index: the index also loads WhatsApp's analytics event tables (WAM, about 3 MB of heap
// in every idle host), which only the socket's BinaryInfo touches, and that it imports on its own.
import makeWASocket from 'baileys/lib/Socket/index.js';
import {
  DisconnectReason,
  type BaileysEventMap,
  type UserFacingSocketConfig,
  type WAMessage,
} from 'baileys/lib/Types/index.js';
import {
  Browsers,
  downloadMediaMessage,
  generateMessageIDV2,
  makeCacheableSignalKeyStore,
  useMultiFileAuthState,
} from 'baileys/lib/Utils/index.js';
import { isJidGroup, jidNormalizedUser } from 'baileys/lib/WABinary/index.js';
import type { proto } from 'baileys/WAProto/index.js';
import type { Logger } from '../../core/logger.js';
import type {
  Attachment,
  Channel,
  ChannelEvents,
  ChannelPacing,
  ChannelState,
  ChatInfo,
  OutboundMedia,
} from '../../core/types.js';
import type { SendOptions } from '../../core/types.js';
import { formatBytes } from '../../kit/bounded.js';
import {
  MediaRefused,
  NO_MEDIA_NOTE,
  REFUSED_NOTE,
  type InboundFile,
  type MediaStore,
} from '../../core/channels/plugin.js';
import { splitText } from '../../kit/text.js';
import { convertMessage, inboxFileName, type Converted } from './messages.js';
import { isWhatsAppJid } from './jids.js';

/** The part of a Baileys socket this channel uses (tests provide a fake). */
/** The media message contents we send (a subset of Baileys' AnyMessageContent). */
export type OutboundContent =
  | { image: Buffer; mimetype: string; caption: string }
  | { document: Buffer; mimetype: string; fileName: string; caption: string };

export interface WhatsAppSocket {
  ev: {
    /** Receives every batch of events; returns a function that stops it. */
    process(handler: (events: Partial<BaileysEventMap>) => void | Promise<void>): () => void;
  };
  readonly user?: { id: string; lid?: string } | undefined;
  authState: { creds: { registered?: boolean } };
  sendMessage(
    jid: string,
    content: { text: string } | OutboundContent,
    options?: { messageId?: string },
  ): Promise<WAMessage | undefined>;
  sendPresenceUpdate(type: 'composing' | 'paused', jid?: string): Promise<void>;
  groupFetchAllParticipating(): Promise<Record<string, { id: string; subject: string }>>;
  requestPairingCode(phoneNumber: string): Promise<string>;
  updateMediaMessage(message: WAMessage): Promise<WAMessage>;
  end(error: Error | undefined): unknown;
  /** Baileys' WebSocket client: re-emits the `ws` socket's events; its (protected) `socket` is that socket. */
  ws?: { on(event: 'open', listener: () => void): unknown };
}

export type DownloadMedia = (
  msg: WAMessage,
  ctx: { sock: WhatsAppSocket; signal: AbortSignal },
) => ReturnType<InboundFile['open']>;

export interface WhatsAppChannelOptions {
  /** Credentials folder (store/auth/whatsapp); created mode 0700. */
  authDir: string;
  assistantName: string;
  /** The assistant runs on a number of its own (ASSISTANT_HAS_OWN_NUMBER). */
  hasOwnNumber: boolean;
  logger: Logger;
  media?: MediaStore;
  identities: { canonical(alias: string): string; link(alias: string, canonical: string): void };
  makeSocket?: (config: UserFacingSocketConfig) => WhatsAppSocket;
  downloadMedia?: DownloadMedia;
  /** Waits before successive reconnects, in ms; the last one repeats. */
  reconnectDelays?: number[];
  /** WhatsApp logged this device out; it needs linking again. */
  onLinkLost?: (reason: string) => void;
  /** Link with a pairing code for this phone number instead of a QR code. */
  pairingPhone?: string;
  /** Draw the QR code (or print the pairing code) on the terminal, for `nanoclaw auth whatsapp`. */
  printQr?: boolean;
  /** WhatsApp Web's WebSocket address (WHATSAPP_WS_URL), for a relay; Baileys' default otherwise. */
  webSocketUrl?: string;
  /**
   * Something stands in the way of linking or connecting, in words for the user:
   * retried after `retryInMs`, or null when retrying cannot help (a refused pairing code).
   */
  onProblem?: (problem: string, retryInMs: number | null) => void;
  /** Tell the owner something is wrong (the connection dropped for oversized messages again and again). */
  notifyOwner?(text: string): void;
  maxMediaBytes?: number;
}

export interface WhatsAppChannel extends Channel {
  /** The linked account's own phone JID (its "message yourself" chat), once known. */
  selfJid(): string | null;
  /** After a logout: forget the dead credentials and start linking afresh (QR or pairing code). No-op otherwise. */
  relink(): Promise<void>;
}

/** WhatsApp cuts a text message off beyond this many characters. */
export const WHATSAPP_TEXT_LIMIT = 65_536;
const DEFAULT_WS_URL = 'wss://web.whatsapp.com/ws/chat';
/**
 * The most one WebSocket message from WhatsApp may take. Stanzas are small; the largest (an offline batch, app
 * state, a big group's participants) stay far below this, and history and media come by HTTPS, not this socket.
 */
export const WHATSAPP_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Oversized drops in a row that mean something is wrong with the server, not a one-off. */
const REPEATS = 3;
const DEFAULT_DELAYS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000];
const MAX_MEDIA_BYTES = 20 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 120_000;
/** Sent message contents kept for WhatsApp's retry requests and to recognise echoes. */
const SENT_MEMORY = 500;

/**
 * WhatsApp bans accounts that send like a script: messages to one chat are
 * spaced like typing (1–2.5 s apart), groups get at most 20 a minute, and the
 * whole account at most 30 a minute.
 */
export const WHATSAPP_PACING: ChannelPacing = {
  perChatMs: 1_000,
  jitterMs: 1_500,
  perGroupChatPerMinute: 20,
  perChannelPerMinute: 30,
  isGroupChat: (jid) => jid.endsWith('@g.us'),
};

export function createWhatsAppChannel(opts: WhatsAppChannelOptions): WhatsAppChannel {
  const log = opts.logger.child({ channel: 'whatsapp' });
  // Baileys logs a lot at info; let through only its warnings unless we log less anyway.
  const baileysLogger = opts.logger.child(
    { module: 'baileys' },
    { level: opts.logger.levelVal >= 40 ? opts.logger.level : 'warn' },
  );
  const makeSocket = opts.makeSocket ?? ((config) => makeWASocket(config));
  const download = opts.downloadMedia ?? defaultDownload(baileysLogger);
  const delays = opts.reconnectDelays?.length ? opts.reconnectDelays : DEFAULT_DELAYS;
  const maxMediaBytes = opts.maxMediaBytes ?? MAX_MEDIA_BYTES;

  let events: ChannelEvents | null = null;
  let sock: WhatsAppSocket | null = null;
  let unsubscribe: (() => void) | null = null;
  // Bumped whenever a socket is dropped, so late events from it are ignored.
  let generation = 0;
  let connected = false;
  let stopped = true;
  let linkLost = false;
  let attempt = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let oversized = 0;
  let linkWatcher: fs.FSWatcher | null = null;
  let shutdown = new AbortController();
  const self = { pn: null as string | null, lid: null as string | null };
  const sent = new Map<string, proto.IMessage | undefined>();
  // Messages are handled one batch after another, so media downloads never reorder them.
  let work: Promise<void> = Promise.resolve();
  let credsWrite: Promise<void> = Promise.resolve();

  // Last name reported per chat: Baileys announces the same group several ways
  // (the fetch on connect also arrives as groups.update), the host hears it once.
  const chatNames = new Map<string, string>();
  function reportChat(info: ChatInfo): void {
    if (!info.name || chatNames.get(info.jid) === info.name) return;
    chatNames.set(info.jid, info.name);
    try {
      events?.onChat(info);
    } catch (err) {
      log.error({ err }, 'onChat handler failed');
    }
  }

  function report(state: ChannelState): void {
    try {
      events?.onState?.(state);
    } catch (err) {
      log.error({ err }, 'onState handler failed');
    }
  }

  function noteSelf(me: { id?: string | null; lid?: string | null } | undefined): void {
    if (me?.id) self.pn = jidNormalizedUser(me.id);
    if (me?.lid) self.lid = jidNormalizedUser(me.lid);
    if (self.pn && self.lid && opts.identities.canonical(self.lid) !== self.pn) opts.identities.link(self.lid, self.pn);
  }

  function remember(id: string, content: proto.IMessage | undefined): void {
    sent.set(id, content);
    if (sent.size > SENT_MEMORY) sent.delete(sent.keys().next().value!);
  }

  async function open(): Promise<void> {
    fs.mkdirSync(opts.authDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(opts.authDir, 0o700);
    const { state, saveCreds } = await useMultiFileAuthState(opts.authDir);
    if (stopped || linkLost) return;
    noteSelf(state.creds.me);
    const gen = ++generation;
    const s = makeSocket({
      auth: { creds: state.creds, keys: makeCacheableSignalKeyStore(state.keys, baileysLogger) },
      logger: baileysLogger,
      // A real browser triple: pairing codes are refused for unknown ones.
      browser: Browsers.macOS('Chrome'),
      // Appearing online would silence notifications on the user's phone.
      markOnlineOnConnect: false,
      syncFullHistory: false,
      getMessage: async (key) => (key.id ? sent.get(key.id) : undefined),
      ...(opts.webSocketUrl ? { waWebSocketUrl: opts.webSocketUrl } : {}),
    });
    sock = s;
    capMessages(s);
    let pairingRequested = false;
    unsubscribe = s.ev.process((batch) => {
      if (gen !== generation) return;
      if (batch['creds.update']) {
        credsWrite = credsWrite
          .then(saveCreds)
          .catch((err) => log.error({ err }, 'Could not save WhatsApp credentials'));
      }
      const update = batch['connection.update'];
      if (update) {
        if (update.qr && !connected) {
          if (opts.pairingPhone) {
            // The first QR means the socket is ready to link; ask for a code instead, once.
            if (!pairingRequested && !s.authState.creds.registered) {
              pairingRequested = true;
              requestPairingCode(s, opts.pairingPhone);
            }
          } else {
            report({
              connected: false,
              detail: 'Scan the QR code with WhatsApp: Settings → Linked devices → Link a device.',
              linking: { qr: update.qr },
            });
            if (opts.printQr) printQr(update.qr);
          }
        }
        if (update.connection === 'open') onOpen(s);
      }
      const queued =
        batch['messages.upsert'] ||
        batch['groups.update'] ||
        batch['groups.upsert'] ||
        batch['chats.upsert'] ||
        batch['lid-mapping.update'];
      if (queued)
        work = work
          .then(() => handleBatch(s, batch))
          .catch((err) => log.error({ err }, 'WhatsApp event handling failed'));
      // Closing last: messages that arrived in the same batch are still handled.
      if (update?.connection === 'close') onClose(gen, s, update.lastDisconnect?.error);
    });
  }

  function requestPairingCode(s: WhatsAppSocket, phone: string): void {
    const digits = phone.replace(/\D/g, '');
    s.requestPairingCode(digits).then(
      (code) => {
        log.info('WhatsApp pairing code issued');
        report({
          connected: false,
          detail: 'Enter the pairing code in WhatsApp: Settings → Linked devices → Link with phone number.',
          linking: { pairingCode: code },
        });
        if (opts.printQr)
          process.stdout.write(
            `\nWhatsApp pairing code: ${code}\nOn your phone: Settings → Linked devices → Link a device → Link with phone number instead.\n\n`,
          );
      },
      (err) => {
        const problem = `WhatsApp gave no pairing code for ${phone} (${(err as Error).message}): check the number (country code first, e.g. 447700900123)`;
        log.error({ err }, problem);
        tellProblem(problem, null);
      },
    );
  }

  /**
   * Lowers the `ws` socket's per-message cap from its 100 MB default: Baileys passes no `maxPayload` to `ws` and
   * has no option for it, so it is set on the socket's receiver as the connection opens, before any message is
   * read. Past it `ws` closes with 1009 and Baileys ends the socket; onClose reconnects as after any drop.
   */
  function capMessages(s: WhatsAppSocket): void {
    s.ws?.on('open', () => {
      const receiver = (s.ws as { socket?: { _receiver?: { _maxPayload?: number } } } | undefined)?.socket?._receiver;
      if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = WHATSAPP_MAX_MESSAGE_BYTES;
      else log.warn('Could not cap WhatsApp WebSocket messages (the ws library changed); its 100 MB default applies');
    });
  }

  function tellProblem(problem: string, retryInMs: number | null): void {
    try {
      opts.onProblem?.(problem, retryInMs);
    } catch (err) {
      log.error({ err }, 'onProblem handler failed');
    }
  }

  function onOpen(s: WhatsAppSocket): void {
    connected = true;
    attempt = 0;
    oversized = 0;
    noteSelf(s.user);
    log.info({ self: self.pn }, 'WhatsApp connected');
    // Connected first: the host flushes its outbox when it hears this.
    report({ connected: true });
    work = work.then(() => reportGroups(s));
  }

  async function reportGroups(s: WhatsAppSocket): Promise<void> {
    // A stop does not wait for the answer: Baileys keeps an unanswered query for 60 s after its socket closes.
    const { signal } = shutdown;
    let onStop = () => {};
    const stopped = new Promise<null>((r) => signal.addEventListener('abort', (onStop = () => r(null))));
    try {
      const groups = await Promise.race([s.groupFetchAllParticipating(), stopped]);
      for (const g of Object.values(groups ?? {})) {
        if (g.id) reportChat({ jid: g.id, name: g.subject, channel: 'whatsapp', isGroup: true });
      }
    } catch (err) {
      log.warn({ err }, 'Could not fetch WhatsApp group names; they will appear as groups are updated');
    } finally {
      signal.removeEventListener('abort', onStop);
    }
  }

  /** Stops listening to a socket and closes it; its late events are ignored. */
  function detach(): WhatsAppSocket | null {
    const s = sock;
    generation++;
    unsubscribe?.();
    unsubscribe = null;
    sock = null;
    connected = false;
    return s;
  }

  function onClose(gen: number, s: WhatsAppSocket, error: Error | undefined): void {
    if (gen !== generation) return;
    detach();
    endQuietly(s);
    if (stopped) return;
    const code = statusCode(error);
    if (code === DisconnectReason.loggedOut) {
      linkLost = true;
      // These credentials are dead; removing them (after any pending save) lets the next link start clean.
      credsWrite = credsWrite.then(() => clearCredentials(opts.authDir, log));
      const reason =
        'WhatsApp logged this device out (it was removed from Linked devices, or the session expired). Link it again with `nanoclaw auth whatsapp`.';
      log.error({ code }, reason);
      report({ connected: false, detail: reason });
      try {
        opts.onLinkLost?.(reason);
      } catch (err) {
        log.error({ err }, 'onLinkLost handler failed');
      }
      void credsWrite.then(watchForNewLink);
      return;
    }
    // After a QR scan WhatsApp asks for a restart; that one is expected and immediate.
    const delay = code === DisconnectReason.restartRequired ? 0 : delays[Math.min(attempt, delays.length - 1)];
    if (code !== DisconnectReason.restartRequired) attempt++;
    const tooBig = isTooBig(error);
    const why = tooBig
      ? `the server sent a message over ${formatBytes(WHATSAPP_MAX_MESSAGE_BYTES)}`
      : explainClose(error, new URL(opts.webSocketUrl ?? DEFAULT_WS_URL).host);
    // Told once per run of drops: a connection that logs in starts the count over.
    oversized = tooBig ? oversized + 1 : 0;
    if (oversized === REPEATS) {
      opts.notifyOwner?.(
        `WhatsApp: ${why}, ${REPEATS} times in a row; NanoClaw keeps reconnecting. ` +
          `Check WHATSAPP_WS_URL or any proxy between NanoClaw and WhatsApp.`,
      );
    }
    log.warn({ code, delay }, `WhatsApp connection closed (${why}); reconnecting`);
    report({ connected: false, detail: `${why}; reconnecting in ${Math.round(delay / 1000)} s.` });
    if (code !== DisconnectReason.restartRequired) tellProblem(why, delay);
    scheduleReconnect(delay);
  }

  /**
   * While logged out, waits for `nanoclaw auth whatsapp` (another process) to
   * write fresh credentials into the auth folder, then connects with them.
   */
  function watchForNewLink(): void {
    if (!linkLost || stopped || linkWatcher) return;
    try {
      linkWatcher = fs.watch(opts.authDir, (_type, file) => {
        if (!linkLost) return stopWatching();
        if (file !== 'creds.json' || !hasLinkedCreds(opts.authDir)) return;
        log.info('New WhatsApp credentials found; reconnecting');
        stopWatching();
        linkLost = false;
        attempt = 0;
        // The linking process is still finishing; give it a moment before taking over.
        scheduleReconnect(delays[0]);
      });
    } catch (err) {
      log.warn({ err }, 'Cannot watch the WhatsApp auth folder; restart NanoClaw after linking again');
    }
  }

  function stopWatching(): void {
    linkWatcher?.close();
    linkWatcher = null;
  }

  function scheduleReconnect(delay: number): void {
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      if (stopped || linkLost || sock) return;
      open().catch((err) => {
        const next = delays[Math.min(attempt++, delays.length - 1)];
        log.error({ err, next }, 'Could not reopen the WhatsApp connection; trying again');
        scheduleReconnect(next);
      });
    }, delay);
  }

  async function handleBatch(s: WhatsAppSocket, batch: Partial<BaileysEventMap>): Promise<void> {
    const mapping = batch['lid-mapping.update'];
    if (mapping?.lid && mapping.pn) opts.identities.link(jidNormalizedUser(mapping.lid), jidNormalizedUser(mapping.pn));

    for (const g of [...(batch['groups.upsert'] ?? []), ...(batch['groups.update'] ?? [])]) {
      if (g.id) reportChat({ jid: g.id, name: g.subject, channel: 'whatsapp', isGroup: true });
    }
    for (const c of batch['chats.upsert'] ?? []) {
      if (!c.id || !c.name) continue;
      const group = !!isJidGroup(c.id);
      const jid = group ? c.id : opts.identities.canonical(jidNormalizedUser(c.id));
      if (isWhatsAppJid(jid)) reportChat({ jid, name: c.name, channel: 'whatsapp', isGroup: group });
    }

    for (const wa of batch['messages.upsert']?.messages ?? []) {
      let converted: Converted | null;
      try {
        converted = convertMessage(wa, {
          assistantName: opts.assistantName,
          hasOwnNumber: opts.hasOwnNumber,
          self,
          canonical: (jid) => opts.identities.canonical(jid),
          sentByUs: (id) => sent.has(id),
        });
      } catch (err) {
        log.warn({ err, id: wa.key?.id }, 'Could not read a WhatsApp message; skipped');
        continue;
      }
      if (!converted) continue;
      for (const l of converted.links) {
        if (opts.identities.canonical(l.alias) !== l.canonical) opts.identities.link(l.alias, l.canonical);
      }
      const { message, media } = converted;
      if (media) {
        const saved = await saveMedia(wa, message.chatJid, media, s);
        if (typeof saved === 'string') message.text += saved;
        else message.attachments = [saved];
      }
      try {
        events?.onMessage(message);
      } catch (err) {
        log.error({ err, id: message.id }, 'onMessage handler failed');
      }
    }
  }

  /** WhatsApp drops media from its servers after a while: on 404/410 the sender's phone is asked to upload it again, once. */
  async function downloadFresh(wa: WAMessage, s: WhatsAppSocket, signal: AbortSignal) {
    try {
      return await download(wa, { sock: s, signal });
    } catch (err) {
      if (!isExpiredMedia(err)) throw err;
      log.info({ id: wa.key?.id }, 'WhatsApp media has expired; asking the phone to upload it again');
      return download(await s.updateMediaMessage(wa), { sock: s, signal });
    }
  }

  /** The saved attachment, or a note for the text ('' when it is not saved for a reason already logged). */
  async function saveMedia(
    wa: WAMessage,
    chatJid: string,
    media: NonNullable<Converted['media']>,
    s: WhatsAppSocket,
  ): Promise<Attachment | string> {
    if (!opts.media) return NO_MEDIA_NOTE;
    const inbox = opts.media.inboxDirFor(chatJid);
    if (!inbox) return '';
    if (media.size !== undefined && media.size > maxMediaBytes) {
      log.info({ chatJid, size: media.size }, `WhatsApp ${media.kind} not saved: larger than ${maxMediaBytes} bytes`);
      return '';
    }
    const signal = AbortSignal.any([shutdown.signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]);
    try {
      const rel = await opts.media.save(inbox, {
        name: inboxFileName(media.mimeType, Date.now(), crypto.randomBytes(4).toString('hex')),
        open: () => downloadFresh(wa, s, signal),
        maxBytes: maxMediaBytes,
        signal,
      });
      return { kind: media.kind, path: rel, mimeType: media.mimeType };
    } catch (err) {
      if (err instanceof MediaRefused) {
        log.warn({ chatJid, id: wa.key?.id, err: err.message }, `Refused to save a WhatsApp ${media.kind}`);
        return REFUSED_NOTE;
      }
      log.warn({ err, chatJid, id: wa.key?.id }, `WhatsApp ${media.kind} could not be saved`);
      return '';
    }
  }

  return {
    name: 'whatsapp',
    sharesUserAccount: !opts.hasOwnNumber,
    pacing: WHATSAPP_PACING,

    ownsJid(jid: string): boolean {
      return isWhatsAppJid(jid);
    },

    /** Starts connecting and returns; state changes (QR, open, close) arrive through onState. */
    async connect(ev: ChannelEvents): Promise<void> {
      events = ev;
      if (!stopped) return;
      stopped = false;
      shutdown = new AbortController();
      try {
        await open();
      } catch (err) {
        stopped = true;
        throw new Error(
          `WhatsApp could not start: ${(err as Error).message}. Check that ${opts.authDir} is writable.`,
          { cause: err },
        );
      }
    },

    async sendMessage(jid: string, text: string, sendOpts?: SendOptions): Promise<void> {
      const s = sock;
      if (!connected || !s) throw new Error('WhatsApp is not connected; the message will be sent when it reconnects.');
      for (const [i, part] of splitText(text, WHATSAPP_TEXT_LIMIT).entries()) {
        // Our own id, recorded before sending, so the echo is known as ours however fast it comes back. Fixed
        // per outbox item and part: a resend after a crash carries the same id, which WhatsApp keeps only once.
        const key = sendOpts?.outboxKey;
        const messageId = key ? outboxMessageId(s.user?.id, key, i) : generateMessageIDV2(s.user?.id);
        remember(messageId, undefined);
        const res = await s.sendMessage(jid, { text: part }, { messageId });
        remember(messageId, res?.message ?? { conversation: part });
      }
    },

    async sendMedia(jid: string, media: OutboundMedia, caption: string): Promise<void> {
      const s = sock;
      if (!connected || !s) throw new Error('WhatsApp is not connected; the file will be sent when it reconnects.');
      const messageId = generateMessageIDV2(s.user?.id);
      remember(messageId, undefined);
      const data = fs.readFileSync(media.path);
      // An image shows inline; anything else goes as a document with its name.
      const content: OutboundContent = /^image\/(png|jpeg|webp)$/.test(media.mimeType)
        ? { image: data, mimetype: media.mimeType, caption }
        : { document: data, mimetype: media.mimeType, fileName: media.fileName, caption };
      const res = await s.sendMessage(jid, content, { messageId });
      remember(messageId, res?.message ?? undefined);
    },

    async setTyping(jid: string, typing: boolean): Promise<void> {
      const s = sock;
      if (!connected || !s) return;
      try {
        await s.sendPresenceUpdate(typing ? 'composing' : 'paused', jid);
      } catch (err) {
        log.debug({ err, jid }, 'WhatsApp typing indicator failed');
      }
    },

    isConnected(): boolean {
      return connected;
    },

    selfJid(): string | null {
      return self.pn;
    },

    async relink(): Promise<void> {
      if (stopped) throw new Error('The WhatsApp channel is not started; call connect() first.');
      // Only after a logout: otherwise the device is linked, or a link is already on offer.
      if (!linkLost) return;
      await credsWrite;
      stopWatching();
      clearCredentials(opts.authDir, log);
      self.pn = null;
      self.lid = null;
      linkLost = false;
      attempt = 0;
      await open();
    },

    async disconnect(): Promise<void> {
      stopped = true;
      if (reconnectTimer) {
        clearTimeout(reconnectTimer);
        reconnectTimer = null;
      }
      stopWatching();
      shutdown.abort();
      const s = detach();
      if (s) endQuietly(s);
      await work;
      await credsWrite;
    },
  };
}

function endQuietly(s: WhatsAppSocket): void {
  try {
    Promise.resolve(s.end(undefined)).catch(() => {});
  } catch {
    // Already closed.
  }
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { output?: { statusCode?: unknown } } | undefined)?.output?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

const OFFLINE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'ENETDOWN']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED']);

/**
 * Why a connection closed, in words a user can act on. Baileys wraps a socket
 * error as a Boom whose `data` is the original error ("WebSocket Error (getaddrinfo ENOTFOUND …)").
 */
export function explainClose(error: unknown, host: string): string {
  const e = error as { message?: string; data?: { code?: unknown; message?: string } } | undefined;
  const sysCode =
    (typeof e?.data?.code === 'string' ? e.data.code : undefined) ??
    /\b(E[A-Z_]{3,})\b/.exec(e?.message ?? '')?.[1] ??
    undefined;
  if (sysCode && OFFLINE.has(sysCode))
    return `Cannot reach ${host} (${sysCode}): check this machine's internet connection or DNS`;
  if (sysCode && UNREACHABLE.has(sysCode))
    return `Cannot reach ${host} (${sysCode}): check this machine's internet connection, and any firewall or proxy in the way`;
  if (/timed out/i.test(e?.message ?? ''))
    return `${host} did not answer in time: check this machine's internet connection, and any firewall or proxy in the way`;
  const code = statusCode(error);
  return `Connection closed (${reasonName(code)}${e?.message ? `: ${e.message}` : ''})`;
}

/** Did `ws` refuse a message past its cap (Baileys wraps its error, keeping it as `data`)? */
function isTooBig(error: unknown): boolean {
  const e = error as { data?: { code?: unknown } } | undefined;
  return e?.data?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
}

function reasonName(code: number | undefined): string {
  if (code === undefined) return 'no reason given';
  const name = (DisconnectReason as unknown as Record<number, string>)[code];
  return name ? `${name}, ${code}` : `code ${code}`;
}

/** Does the auth folder hold credentials of a linked device? */
function hasLinkedCreds(dir: string): boolean {
  try {
    const creds = JSON.parse(fs.readFileSync(path.join(dir, 'creds.json'), 'utf8')) as { me?: { id?: string } };
    return !!creds.me?.id;
  } catch {
    // Missing, or caught half-written: the next change event looks again.
    return false;
  }
}

function clearCredentials(dir: string, log: Logger): void {
  try {
    for (const entry of fs.readdirSync(dir)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  } catch (err) {
    log.warn({ err, dir }, 'Could not remove old WhatsApp credentials');
  }
}

/** A media download that failed because the file is gone from WhatsApp's servers (Baileys throws a Boom with the HTTP status). */
export function isExpiredMedia(err: unknown): boolean {
  const e = err as { output?: { statusCode?: unknown }; status?: unknown; statusCode?: unknown } | null;
  const code = e?.output?.statusCode ?? e?.status ?? e?.statusCode;
  return code === 404 || code === 410;
}

function defaultDownload(logger: Logger): DownloadMedia {
  return async (msg, { sock, signal }) => {
    const stream = await downloadMediaMessage(
      msg,
      'stream',
      { options: { signal } },
      {
        logger,
        reuploadRequest: (m) => sock.updateMediaMessage(m),
      },
    );
    return stream as AsyncIterable<Uint8Array>;
  };
}

function printQr(qr: string): void {
  // qrcode-terminal is CommonJS without types; loaded only when a QR is drawn.
  const qrcode = createRequire(import.meta.url)('qrcode-terminal') as {
    generate(text: string, opts: { small: boolean }, cb: (drawn: string) => void): void;
  };
  qrcode.generate(qr, { small: true }, (drawn) => {
    process.stdout.write(`\nScan this with WhatsApp (Settings → Linked devices → Link a device):\n${drawn}\n`);
  });
}

/** A message id in Baileys' own shape (3EB0 + 18 hex), fixed for one part of one outbox item on one account. */
export function outboxMessageId(userId: string | undefined, outboxKey: string, part: number): string {
  const hash = crypto.createHash('sha256').update(`nanoclaw-outbox\0${userId ?? ''}\0${outboxKey}\0${part}`);
  return `3EB0${hash.digest('hex').slice(0, 18).toUpperCase()}`;
}
