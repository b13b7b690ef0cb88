// Signal: a chat app (settings, setup, doctor and the channel in plugin.ts).
import type { Plugin } from '../../core/plugin.js';
import { signalPlugin } from './plugin.js';

export const signal: Plugin = { name: 'signal', channel: signalPlugin };
