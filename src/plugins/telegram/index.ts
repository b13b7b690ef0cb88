// Telegram: a chat app (settings, setup, doctor and the channel in plugin.ts).
import type { Plugin } from '../../core/plugin.js';
import { telegramPlugin } from './plugin.js';

export const telegram: Plugin = { name: 'telegram', channel: telegramPlugin };
