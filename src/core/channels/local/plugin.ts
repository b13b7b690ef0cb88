// The built-in local channel's plugin: always on, its chats never strangers.
import type { ChannelPlugin } from '../plugin.js';
import { createLocalChannel, ownsLocalJid } from './local.js';

export const localPlugin: ChannelPlugin = {
  name: 'local',
  label: 'Local',
  builtIn: true,
  ownsJid: ownsLocalJid,
  isDirectChat: () => false,
  configured: () => true,
  start: async () => createLocalChannel(),
};
