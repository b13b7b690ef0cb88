// The built-in local channel: always on, fed by the HTTP API (the dashboard and
// `nanoclaw chat`), so the host makes it itself. Its chats are never strangers.
import type { ChannelPlugin } from '../plugin.js';
import { createLocalChannel, LOCAL_PREFIX } from './local.js';

export const localPlugin: ChannelPlugin = {
  name: 'local',
  label: 'Local',
  builtIn: true,
  ownsJid: (jid) => jid.startsWith(LOCAL_PREFIX),
  isDirectChat: () => false,
  configured: () => true,
  start: async () => createLocalChannel(),
};
