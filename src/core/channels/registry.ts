// The chat platforms NanoClaw knows, one plugin each (src/channels/<name>/plugin.ts).
// Adding a platform is one new folder and one entry in CHANNELS; the host, the
// CLI (auth, doctor, setup) and the dashboard take the list from here.
import type { Config } from '../config/config.js';
import { homePaths } from '../config/home.js';
import type { Channel } from '../types.js';
import { discordPlugin } from '../../plugins/discord/plugin.js';
import { localPlugin } from './local/plugin.js';
import type { ChannelContext, ChannelPlugin, PluginEnv } from './plugin.js';
import { slackPlugin } from '../../plugins/slack/plugin.js';
import { signalPlugin } from '../../plugins/signal/plugin.js';
import { telegramPlugin } from '../../plugins/telegram/plugin.js';
import { whatsappPlugin } from '../../plugins/whatsapp/plugin.js';

export const CHANNELS: readonly ChannelPlugin[] = [
  localPlugin,
  telegramPlugin,
  whatsappPlugin,
  discordPlugin,
  slackPlugin,
  signalPlugin,
];

export type { ChannelContext, ChannelPlugin } from './plugin.js';
export { inboxDirFor, mediaStagingDir } from './media-paths.js';

export function pluginEnv(config: Config): PluginEnv {
  return { config, paths: homePaths(config.home), env: config.env };
}

/** The plugin whose chat ids look like this one, if any. */
export function pluginFor(jid: string, plugins: readonly ChannelPlugin[] = CHANNELS): ChannelPlugin | undefined {
  return plugins.find((p) => p.ownsJid(jid));
}

/**
 * The channels to run besides the built-in ones: each plugin that is set up on
 * this install. A plugin loads its platform library only then, to keep an idle host small.
 */
export async function configuredChannels(
  ctx: ChannelContext,
  plugins: readonly ChannelPlugin[] = CHANNELS,
): Promise<Channel[]> {
  const env = pluginEnv(ctx.config);
  const channels: Channel[] = [];
  for (const plugin of plugins) {
    if (plugin.builtIn || !plugin.start || !plugin.configured(env)) continue;
    channels.push(await plugin.start({ ...ctx, logger: ctx.logger.child({ channel: plugin.name }) }));
  }
  return channels;
}

/** Shows or hides "typing…" in a chat through whichever channel owns it; best effort. */
export function typingVia(channels: readonly Channel[]): (jid: string, typing: boolean) => void {
  return (jid, typing) =>
    void channels
      .find((c) => c.ownsJid(jid))
      ?.setTyping?.(jid, typing)
      .catch(() => {
        /* best effort */
      });
}
