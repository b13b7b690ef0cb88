// A stand-in for a Baileys 7 socket at its event boundary. Its `ev` works the
// way Baileys' event buffer does: every event travels as a map on one internal
// 'event' channel, `process()` handlers get those maps (several events at once
// after buffer()/flush()), and `on()` listeners get the single events. It makes
// no network calls: tests replay recorded payloads from test/fixtures/whatsapp.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { BufferJSON, type BaileysEventMap, type UserFacingSocketConfig, type WAMessage } from 'baileys';
import type { OutboundContent, WhatsAppSocket } from '../../src/plugins/whatsapp/whatsapp.js';
import { projectRoot } from '../../src/core/config/project-root.js';

// From the project root, so the built copy (dist/test/support) finds them too.
const FIXTURES = path.join(projectRoot(), 'test', 'fixtures', 'whatsapp');

export type Recorded = { event: keyof BaileysEventMap; data: any };

/** Reads a fixture, reviving Buffers the way Baileys stores them and closes' errors as Boom-shaped errors. */
export function loadFixture<T = Recorded[]>(name: string): T {
  const parsed = JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'), BufferJSON.reviver);
  if (Array.isArray(parsed)) {
    for (const entry of parsed as Recorded[]) {
      const err = entry.event === 'connection.update' ? entry.data?.lastDisconnect?.error : undefined;
      if (err) {
        entry.data.lastDisconnect.error = boomLike(err.output.statusCode, err.message);
        entry.data.lastDisconnect.date = new Date(entry.data.lastDisconnect.date);
      }
    }
  }
  return parsed as T;
}

/** What @hapi/boom gives Baileys: an Error with `output.statusCode`. */
export function boomLike(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), {
    isBoom: true,
    output: { statusCode, payload: { statusCode, message }, headers: {} },
  });
}

type Handler = (events: Partial<BaileysEventMap>) => void | Promise<void>;

export class FakeEventEmitter {
  private readonly inner = new EventEmitter();
  private buffered: Partial<BaileysEventMap> | null = null;

  constructor() {
    // As in Baileys: a map on 'event' fans out to per-event listeners.
    this.inner.on('event', (map: Partial<BaileysEventMap>) => {
      for (const key of Object.keys(map)) this.inner.emit(key, (map as any)[key]);
    });
  }

  process(handler: Handler): () => void {
    const listener = async (map: Partial<BaileysEventMap>) => {
      await handler(map);
    };
    this.inner.on('event', listener);
    return () => {
      this.inner.off('event', listener);
    };
  }

  on<T extends keyof BaileysEventMap>(event: T, listener: (arg: BaileysEventMap[T]) => void): void {
    this.inner.on(event, listener);
  }
  off<T extends keyof BaileysEventMap>(event: T, listener: (arg: BaileysEventMap[T]) => void): void {
    this.inner.off(event, listener);
  }
  removeAllListeners<T extends keyof BaileysEventMap>(event: T): void {
    this.inner.removeAllListeners(event);
  }

  emit<T extends keyof BaileysEventMap>(event: T, data: BaileysEventMap[T]): boolean {
    if (this.buffered && event !== 'connection.update') {
      const prev = (this.buffered as any)[event];
      if (event === 'messages.upsert' && prev)
        prev.messages.push(...(data as BaileysEventMap['messages.upsert']).messages);
      else if (Array.isArray(data) && Array.isArray(prev)) prev.push(...data);
      else (this.buffered as any)[event] = data;
      return true;
    }
    return this.inner.emit('event', { [event]: data });
  }

  buffer(): void {
    this.buffered ??= {};
  }

  /** Releases buffered events as one map, the way Baileys does after a sync. */
  flush(): boolean {
    const map = this.buffered;
    this.buffered = null;
    if (!map || Object.keys(map).length === 0) return false;
    return this.inner.emit('event', map);
  }

  /** process() handlers attached (the internal fan-out listener is not counted). */
  handlerCount(): number {
    return this.inner.listenerCount('event') - 1;
  }
}

export interface FakeSocketOptions {
  user?: { id: string; lid?: string; name?: string };
  registered?: boolean;
  groups?: Record<string, any>;
  /** The group list is asked for and never answered (Baileys gives up after its 60 s query timeout). */
  groupsUnanswered?: boolean;
  pairingCode?: string;
  /** requestPairingCode fails with this, as WhatsApp does for a number it refuses. */
  pairingError?: Error;
  /** What the phone answers to a media re-upload request (default: the message unchanged). */
  reupload?: (message: WAMessage) => WAMessage | Promise<WAMessage>;
}

export class FakeBaileysSocket implements WhatsAppSocket {
  readonly ev = new FakeEventEmitter();
  user: { id: string; lid?: string; name?: string } | undefined;
  readonly authState: { creds: { registered: boolean } };
  readonly sent: { jid: string; content: { text: string }; options?: { messageId?: string } }[] = [];
  readonly presence: { type: string; jid?: string }[] = [];
  readonly pairingRequests: string[] = [];
  closed = false;

  constructor(
    readonly config: UserFacingSocketConfig,
    private readonly opts: FakeSocketOptions = {},
  ) {
    this.authState = { creds: { registered: opts.registered ?? true } };
    // As Baileys' socket does: what WhatsApp hands over (the linked account) joins the credentials that get saved.
    const creds = (config as { auth?: { creds?: object } } | undefined)?.auth?.creds;
    if (creds) this.ev.on('creds.update', (update) => Object.assign(creds, update));
  }

  /** Delivers recorded events in order, each as its own batch. */
  replay(entries: Recorded[]): void {
    for (const { event, data } of entries) {
      if (event === 'connection.update' && data.connection === 'close') this.end(data.lastDisconnect?.error);
      else this.ev.emit(event, data);
    }
  }

  /** The connection comes up for the linked account. */
  open(): void {
    this.user = this.opts.user ?? { id: '447700900001:12@s.whatsapp.net', lid: '215089355554821:12@lid', name: 'Jane' };
    this.replay(loadFixture('connection-open.json'));
  }

  async sendMessage(
    jid: string,
    content: { text: string } | OutboundContent,
    options?: { messageId?: string },
  ): Promise<WAMessage | undefined> {
    if (this.closed) throw boomLike(428, 'Connection Closed');
    // Media contents are recorded as they came; their caption stands in for the text of the echo.
    this.sent.push({ jid, content: content as { text: string }, options });
    const msg: WAMessage = {
      key: {
        remoteJid: jid,
        fromMe: true,
        id: options?.messageId ?? `3EB0${Math.random().toString(16).slice(2, 18).toUpperCase()}`,
      },
      message: { extendedTextMessage: { text: 'text' in content ? content.text : content.caption } },
      messageTimestamp: Math.floor(Date.now() / 1000),
      status: 1,
    };
    // Baileys (emitOwnEvents) echoes what it sent as an 'append' upsert on the next tick.
    process.nextTick(() => {
      if (!this.closed) this.ev.emit('messages.upsert', { messages: [msg], type: 'append' });
    });
    return msg;
  }

  async sendPresenceUpdate(type: 'composing' | 'paused', jid?: string): Promise<void> {
    if (this.closed) throw boomLike(428, 'Connection Closed');
    this.presence.push({ type, jid });
  }

  async groupFetchAllParticipating(): Promise<Record<string, { id: string; subject: string }>> {
    if (this.opts.groupsUnanswered) return new Promise(() => {});
    const groups = this.opts.groups ?? {};
    // Baileys also announces the fetched groups as a groups.update.
    this.ev.emit('groups.update', Object.values(groups));
    return groups;
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    this.pairingRequests.push(phoneNumber);
    if (this.opts.pairingError) throw this.opts.pairingError;
    return this.opts.pairingCode ?? 'K7QX2M9D';
  }

  /** Ids of messages whose media was asked for again. */
  readonly mediaUpdates: string[] = [];

  async updateMediaMessage(message: WAMessage): Promise<WAMessage> {
    this.mediaUpdates.push(message.key?.id ?? '');
    return this.opts.reupload ? this.opts.reupload(message) : message;
  }

  /** As Baileys' end(): once only; reports the close, then drops per-event connection listeners. */
  async end(error: Error | undefined): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } });
    this.ev.removeAllListeners('connection.update');
  }
}

/** A makeSocket for createWhatsAppChannel that keeps every socket it made. */
export function fakeSocketFactory(opts: FakeSocketOptions = {}) {
  const sockets: FakeBaileysSocket[] = [];
  return {
    sockets,
    latest(): FakeBaileysSocket {
      return sockets[sockets.length - 1];
    },
    makeSocket: (config: UserFacingSocketConfig): FakeBaileysSocket => {
      const s = new FakeBaileysSocket(config, opts);
      sockets.push(s);
      return s;
    },
  };
}

/**
 * WhatsApp's media servers as the channel's `downloadMedia` sees them: bytes
 * per message id, every request recorded, and downloads that can be held
 * (the request is in, the bytes are not) until the test releases them.
 */
export function fakeMediaServer(files: Record<string, Uint8Array> = {}) {
  const requested: string[] = [];
  const expired = new Set<string>();
  let hold: Promise<void> | null = null;
  const directPaths = (msg: WAMessage) =>
    Object.values(msg.message ?? {}).map((c) => (c as { directPath?: string } | null)?.directPath ?? '');
  return {
    files,
    requested,
    download: async (msg: WAMessage): Promise<Uint8Array> => {
      const id = msg.key?.id ?? '';
      requested.push(id);
      if (hold) await hold;
      // WhatsApp's servers drop media after a while and answer 410 until the sender's phone uploads it again.
      if (expired.has(id) && !directPaths(msg).includes(`/reuploaded/${id}`))
        throw boomLike(410, `media for ${id} has expired`);
      const bytes = files[id];
      if (!bytes) throw boomLike(404, `no media for message ${id}`);
      return bytes;
    },
    /** From now on this message's media is gone until re-uploaded. */
    expire(id: string): void {
      expired.add(id);
    },
    /** The phone's answer to updateMediaMessage: the message with a fresh direct path. */
    reupload(msg: WAMessage): WAMessage {
      const id = msg.key?.id ?? '';
      const content = Object.fromEntries(
        Object.entries(msg.message ?? {}).map(([k, v]) => [
          k,
          v && typeof v === 'object' ? { ...v, directPath: `/reuploaded/${id}` } : v,
        ]),
      );
      return { ...msg, message: content };
    },
    holdDownloads(): () => void {
      let release!: () => void;
      hold = new Promise<void>((r) => {
        release = r;
      });
      return () => {
        hold = null;
        release();
      };
    },
  };
}
