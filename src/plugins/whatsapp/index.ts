// WhatsApp: a chat app (settings, setup, doctor and the channel in plugin.ts).
import type { Plugin } from '../../core/plugin.js';
import { whatsappPlugin } from './plugin.js';

export const whatsapp: Plugin = { name: 'whatsapp', channel: whatsappPlugin };
