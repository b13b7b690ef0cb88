// How Slack events reach NanoClaw. Users run Socket Mode (an app-level token,
// SLACK_APP_TOKEN): the app dials out to Slack over a WebSocket, so no public
// URL is needed. Without one, an Events API receiver (HTTP, signed with the
// signing secret) listens on 127.0.0.1 only, for a local provider server or a
// reverse proxy the user runs. Both feed the same Bolt app and message handler.
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
  /** Socket Mode's ping timeout, which also paces its reconnects (default 5000). */
  clientPingTimeoutMs?: number;
}

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
    const receiver = new SocketModeReceiver({
      appToken: s.appToken,
      logger: s.logger,
      clientPingTimeout: s.clientPingTimeoutMs,
      ...(s.apiUrl ? { installerOptions: { clientOptions: { slackApiUrl: s.apiUrl } } } : {}),
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
