// The built-in local channel's plugin: always on, its chats never strangers.
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
