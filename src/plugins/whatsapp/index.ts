// WhatsApp: a chat app (settings, setup, doctor and the channel in plugin.ts).
import type { Plugin } from '../../core/plugin.js';
import { identityQueries } from './identities.js';
import { whatsappPlugin } from './plugin.js';

declare module '../../core/store/index.js' {
  interface StoreExtensions {
    identities: ReturnType<typeof identityQueries>;
  }
}

export const whatsapp: Plugin = {
  name: 'whatsapp',
  channel: whatsappPlugin,
  store: (db) => ({ identities: identityQueries(db) }),
};
