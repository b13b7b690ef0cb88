// The web dashboard: static pages on the local API's address (everything they show comes from /api/*), the
// Channels page's routes to set a chat app up, check it and link WhatsApp, and the live view's (live.ts).
import path from 'node:path';
import { OWNER_SENDERS } from '../../core/channels/local/local.js';
import type { ChannelPlugin, PluginEnv, Settings } from '../../core/channels/plugin.js';
import { configuredChannels } from '../../core/channels/registry.js';
import { setEnvValues } from '../../kit/env-file.js';
import type { Plugin } from '../../core/plugin.js';
import { runnerModule } from '../../core/sandbox/mounts.js';
import { channelsApi, isSetUp } from './channels-api.js';
import { dashboardApp } from './dashboard.js';
import { createToolFeed, liveApi, type TeamMember } from './live.js';

declare module '../../core/api/types.js' {
  interface StatusResponse {
    /** Every channel plugin, set up or not. */
    plugins: PluginInfo[];
    /** The senders of a local chat that are the owner (the chat page tells them from members by these). */
    ownerSenders: string[];
    /** By chat: the agent-team members at work now in its sandbox. */
    teams: Record<string, TeamMember[]>;
  }
}

type PluginInfo = ReturnType<typeof pluginInfo>;

/** What the dashboard shows of a chat app: of its settings only whether each is set, never a value. */
function pluginInfo(p: ChannelPlugin, env: PluginEnv) {
  return {
    name: p.name,
    label: p.label,
    setup: p.setupHint ?? null,
    linkHelp: p.linkHelp ?? null,
    tokenFields: p.tokenForm?.fields.map((f) => ({ ...f, set: !!env.env[f.key]?.trim() })) ?? null,
    canLink: !!p.link,
    configured: isSetUp(p, env),
  };
}

/** The settings with what was just written to .env (null: removed). */
function written(env: Settings, values: Record<string, string | null>): Settings {
  const next: Record<string, string | undefined> = { ...env };
  for (const [k, v] of Object.entries(values)) next[k] = v ?? undefined;
  return next;
}

export const dashboard: Plugin = {
  name: 'dashboard',
  setup: (core) => {
    const { config, paths, store, status, channels, channelPlugins, agents, logger } = core;
    const feed = createToolFeed(agents);
    // The settings as the page left them: config.env plus what it saved since the host started.
    let settings = config.env;
    const env = (): PluginEnv => ({ config: { ...config, env: settings }, paths, env: settings });
    // A changed chat app runs with its new settings at once: the old channel goes, a new one connects.
    const restart = async (name: string) => {
      const i = channels.findIndex((c) => c.name === name);
      if (i > 0) await channels.splice(i, 1)[0].disconnect();
      const ctx = { ...core, config: { ...config, env: settings } };
      const [started] = await configuredChannels(
        ctx,
        channelPlugins.filter((p) => p.name === name),
      );
      if (!started) return null;
      channels.push(started);
      await core.connect(started);
      return status().channels.find((c) => c.name === name) ?? null;
    };
    return {
      // The Channels page lists every chat app, set up or not.
      status: () => ({
        plugins: channelPlugins.map((p) => pluginInfo(p, env())),
        ownerSenders: OWNER_SENDERS,
        teams: feed.teams(),
      }),
      api: (app) => {
        // The Activity page's errors are the health plugin's; without it there are none to show.
        app.route('/', dashboardApp({ status, recentErrors: (n) => store.usage?.recentErrors(n) ?? [] }));
        app.route(
          '/',
          channelsApi({
            plugins: channelPlugins,
            env,
            saveEnv: (values) => {
              const file = setEnvValues(config.home, values);
              settings = written(settings, values);
              return file;
            },
            running: () => channels.map((c) => c.name),
            restart,
            state: (name) => status().channels.find((c) => c.name === name) ?? null,
          }),
        );
        app.route('/', liveApi({ feed, agents, store, logger, logFile: path.join(paths.logs, 'nanoclaw.log') }));
      },
      // The chat page shows each tool call as the runner reports it; a module in the sandbox reports the team.
      gateway: { onRunnerEvent: feed.onRunnerEvent },
      sandbox: () => ({ mounts: [runnerModule('dashboard')] }),
    };
  },
};
