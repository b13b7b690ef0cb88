// The web dashboard: static pages on the local API's address (everything they show comes from /api/*), the
// Channels page's routes to set a chat app up, check it and link WhatsApp, and the live view's (live.ts).
import path from 'node:path';
import { OWNER_SENDERS } from '../../core/channels/local/local.js';
import type { ChannelPlugin } from '../../core/channels/plugin.js';
import { setEnvValues } from '../../core/config/env-file.js';
import type { Plugin } from '../../core/plugin.js';
import { channelsApi } from './channels-api.js';
import { dashboardApp } from './dashboard.js';
import { createToolFeed, liveApi } from './live.js';

declare module '../../core/api/types.js' {
  interface StatusResponse {
    /** Every channel plugin, set up or not. */
    plugins: PluginInfo[];
    /** The senders of a local chat that are the owner (the chat page tells them from members by these). */
    ownerSenders: string[];
  }
}

type PluginInfo = ReturnType<typeof pluginInfo>;

/** What the dashboard shows of a chat app. */
function pluginInfo(p: ChannelPlugin) {
  return {
    name: p.name,
    label: p.label,
    setup: p.setupHint ?? null,
    linkHelp: p.linkHelp ?? null,
    tokenFields: p.tokenForm?.fields ?? null,
    canLink: !!p.link,
  };
}

export const dashboard: Plugin = {
  name: 'dashboard',
  setup: ({ config, paths, store, status, channels, channelPlugins, agents, logger }) => {
    const feed = createToolFeed();
    return {
      // The Channels page lists every chat app, set up or not.
      status: () => ({ plugins: channelPlugins.map(pluginInfo), ownerSenders: OWNER_SENDERS }),
      api: (app) => {
        // The Activity page's errors are the health plugin's; without it there are none to show.
        app.route('/', dashboardApp({ status, recentErrors: (n) => store.usage?.recentErrors(n) ?? [] }));
        app.route(
          '/',
          channelsApi({
            plugins: channelPlugins,
            env: () => ({ config, paths, env: config.env }),
            saveEnv: (values) => setEnvValues(config.home, values),
            running: () => channels.map((c) => c.name),
          }),
        );
        app.route('/', liveApi({ feed, agents, store, logger, logFile: path.join(paths.logs, 'nanoclaw.log') }));
      },
      // The chat page shows each tool call as the runner reports it.
      gateway: { onRunnerEvent: feed.onRunnerEvent },
    };
  },
};
