// Memory you control: find, preview and erase what the assistant keeps about a phrase, a person or a time,
// with a receipt; members may only forget themselves; an opted-out sender is not kept at all.
import { isDirectChat } from '../../core/channels/registry.js';
import type { Plugin } from '../../core/plugin.js';
import { forgetApi } from './api.js';
import { consentStep } from './consent-step.js';
import { createForgetEngine } from './engine.js';
import { purgeOptedOut } from './opt-out.js';
import { forgetStore, migrations } from './store.js';
import { createForgetTools } from './tools.js';

export const forget: Plugin = {
  name: 'forget',
  store: forgetStore,
  migrations,
  setup({ store, paths, conversation, resetSession, channelPlugins }) {
    const engine = createForgetEngine({ store, paths, resetSession });
    // An opted-out sender's message lives only until the turn that answers it is committed.
    store.outbox.onWrite(() => purgeOptedOut({ store, paths }));
    purgeOptedOut({ store, paths });
    return {
      inbound: [consentStep({ store, conversation })],
      tools: createForgetTools({ store, paths, engine, isDirectChat: (jid) => isDirectChat(jid, channelPlugins) }),
      api: (app) => app.route('/', forgetApi({ store, engine })),
    };
  },
};
