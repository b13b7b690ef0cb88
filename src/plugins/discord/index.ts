// Discord: a chat app (settings, setup, doctor and the channel in plugin.ts).
import type { Plugin } from '../../core/plugin.js';
import { discordPlugin } from './plugin.js';

export const discord: Plugin = { name: 'discord', channel: discordPlugin };
