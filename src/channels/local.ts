// The built-in local channel: chats named `local:<name>`, fed by the HTTP API
// (the dashboard and `nanoclaw chat`). Its history is the store itself, so
// sending is only a matter of recording the reply, which delivery does.
import type { Channel, ChannelEvents } from '../types.js';

export const LOCAL_PREFIX = 'local:';
const LOCAL_JID = /^local:[a-z0-9][a-z0-9_-]{0,63}$/;

export function isLocalJid(jid: string): boolean {
  return LOCAL_JID.test(jid);
}

export function createLocalChannel(): Channel & { events(): ChannelEvents | null } {
  let events: ChannelEvents | null = null;
  return {
    name: 'local',
    sharesUserAccount: false,
    ownsJid: (jid) => jid.startsWith(LOCAL_PREFIX),
    async connect(ev) { events = ev; ev.onState?.({ connected: true }); },
    async sendMessage(jid) {
      if (!isLocalJid(jid)) throw new Error(`"${jid}" is not a local chat id (expected local:<name>).`);
    },
    isConnected: () => events !== null,
    async disconnect() { events = null; },
    events: () => events,
  };
}
