// How Slack events reach NanoClaw. Users run Socket Mode (an app-level token,
// SLACK_APP_TOKEN): the app dials out to Slack over a WebSocket, so no public
// URL is needed. Without one, an Events API receiver (HTTP, signed with the
// signing secret) listens on 127.0.0.1 only, for a local provider server or a
// reverse proxy the user runs. Both feed the same Bolt app and message handler.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { HTTPReceiver, SocketModeReceiver, type Receiver } from '@slack/bolt';
import type { Logger as BoltLogger } from '@slack/bolt';

export interface ReceiverSettings {
  /** xapp-…: Socket Mode. */
  appToken?: string | null;
  /** Verifies the Events API's X-Slack-Signature (HTTP mode). */
  signingSecret?: string | null;
  /** Where the HTTP receiver listens (127.0.0.1). */
  eventsPort: number;
  logger: BoltLogger;
  /** The Web API base Socket Mode asks for its WebSocket URL (SLACK_API_URL); default Slack's. */
  apiUrl?: string;
  /** Socket Mode dropped its connection because Slack sent a message over SLACK_MAX_MESSAGE_BYTES. */
  onOversize?(): void;
  /** Socket Mode's ping timeout, which also paces its reconnects (default 5000). */
  clientPingTimeoutMs?: number;
}

/**
 * The most one Socket Mode message may take. An event envelope is a few KB (a message is at most 40,000
 * characters, with blocks and file details still far below this); undici's default would buffer 128 MB.
 */
export const SLACK_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export const EVENTS_PATH = '/slack/events';
export const EVENTS_HOST = '127.0.0.1';

export interface SlackReceiver {
  mode: 'socket' | 'http';
  receiver: Receiver;
  /** Arguments for App.start: nothing for Socket Mode, where to listen for HTTP. */
  startArgs: unknown[];
}

/** Chooses and builds the receiver; nothing connects or listens until the app starts. */
export function createSlackReceiver(s: ReceiverSettings): SlackReceiver {
  if (s.appToken) {
    const sockets = new Set<Socket>();
    const receiver = new SocketModeReceiver({
      appToken: s.appToken,
      logger: s.logger,
      dispatcher: cappedDispatcher(SLACK_MAX_MESSAGE_BYTES, () => s.onOversize?.(), sockets),
      clientPingTimeout: s.clientPingTimeoutMs,
      ...(s.apiUrl ? { installerOptions: { clientOptions: { slackApiUrl: s.apiUrl } } } : {}),
    });
    // Socket Mode destroys its own dispatcher's socket when a connection ends (a peer may stall the close
    // handshake); with ours it cannot, so we do. Between connections the sockets left are idle ones.
    receiver.client.on('close', () => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    });
    return { mode: 'socket', receiver, startArgs: [] };
  }
  if (!s.signingSecret) {
    throw new Error(
      'Slack needs SLACK_APP_TOKEN (Socket Mode, recommended: run "nanoclaw auth slack") or SLACK_SIGNING_SECRET for an Events API URL.',
    );
  }
  const receiver = new HTTPReceiver({
    signingSecret: s.signingSecret,
    endpoints: EVENTS_PATH,
    logger: s.logger,
    // Acknowledge an event only once it is stored: a crash before that makes Slack deliver it again.
    processBeforeResponse: true,
  });
  return { mode: 'http', receiver, startArgs: [{ port: s.eventsPort, host: EVENTS_HOST }] };
}

// Socket Mode's WebSocket is undici's; its cap is an option of the dispatcher it connects through, so it must be
// the Agent of the very undici copy @slack/socket-mode loads (an Agent of another copy has no such option).
const boltRequire = createRequire(createRequire(import.meta.url).resolve('@slack/bolt'));
const socketModeRequire = createRequire(boltRequire.resolve('@slack/socket-mode'));

type SocketModeDispatcher = NonNullable<ConstructorParameters<typeof SocketModeReceiver>[0]['dispatcher']>;

interface UndiciForSocketMode {
  Agent: new (o: object) => SocketModeDispatcher;
  buildConnector(o: object): (opts: object, cb: (err: Error | null, socket: Socket | null) => void) => void;
}

/** The client's Close frame (FIN + opcode 8, masked) carrying 1009: it refused a message as too large. */
function isTooBigClose(chunk: unknown): boolean {
  if (!Buffer.isBuffer(chunk) || chunk.length < 8 || chunk[0] !== 0x88 || (chunk[1]! & 0x7f) < 2) return false;
  return (((chunk[6]! ^ chunk[2]!) << 8) | (chunk[7]! ^ chunk[3]!)) === 1009;
}

/**
 * An HTTP/1.1 dispatcher (as Socket Mode's own default) whose WebSockets fail past `maxBytes` a message, closing
 * with 1009; Socket Mode then reconnects as after any drop. undici tells its user only "closed (1006)", so the
 * Close frame it writes is what says why: `onOversize` hears of it.
 */
function cappedDispatcher(maxBytes: number, onOversize: () => void, sockets: Set<Socket>): SocketModeDispatcher {
  const undici = socketModeRequire('undici') as UndiciForSocketMode;
  const connect = undici.buildConnector({ allowH2: false });
  return new undici.Agent({
    webSocket: { maxPayloadSize: maxBytes },
    connect: (opts: object, cb: (err: Error | null, socket: Socket | null) => void) =>
      connect(opts, (err, socket) => {
        if (socket) {
          sockets.add(socket);
          socket.once('close', () => sockets.delete(socket));
          const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
          socket.write = ((chunk: unknown, ...rest: unknown[]) => {
            if (isTooBigClose(chunk)) onOversize();
            return write(chunk, ...rest);
          }) as Socket['write'];
        }
        cb(err, socket);
      }),
  });
}
