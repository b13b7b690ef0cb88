// The chat apps the host runs: the built-in local chat plus each chat-app plugin's.
import type { Config } from '../config/config.js';
import { homePaths } from '../config/home.js';
import type { Logger } from '../logger.js';
import type { Channel, ChannelEvents, ChannelState } from '../types.js';
import type { ChannelContext, ChannelPlugin, PluginEnv } from './plugin.js';

export type { ChannelPlugin } from './plugin.js';

export const pluginEnv = (config: Config): PluginEnv => ({ config, paths: homePaths(config.home), env: config.env });

/** The plugin that owns the id's shape decides. */
export function isDirectChat(jid: string, plugins: readonly ChannelPlugin[]): boolean {
  return plugins.find((p) => p.ownsJid(jid))?.isDirectChat(jid) ?? false;
}

/** Only a plugin set up on this install starts its channel (and loads its platform library). */
export async function configuredChannels(ctx: ChannelContext, plugins: readonly ChannelPlugin[]): Promise<Channel[]> {
  const env = pluginEnv(ctx.config);
  const channels: Channel[] = [];
  for (const p of plugins)
    if (!p.builtIn && p.start && p.configured(env))
      channels.push(await p.start({ ...ctx, logger: ctx.logger.child({ channel: p.name }) }));
  return channels;
}

/** Best effort. */
export function typingVia(channels: readonly Channel[]): (jid: string, typing: boolean) => void {
  return (jid, typing) =>
    void channels
      .find((c) => c.ownsJid(jid))
      ?.setTyping?.(jid, typing)
      .catch(() => {});
}

/** Keeps each channel's state for status; one that fails to connect is recorded with its reason. */
export async function connectAll(
  channels: readonly Channel[],
  on: Omit<ChannelEvents, 'onMessage' | 'onState'> & {
    onMessage(ch: Channel): ChannelEvents['onMessage'];
    onConnected(ch: Channel): void;
  },
  states: Map<string, ChannelState>,
  logger: Logger,
): Promise<void> {
  for (const ch of channels) {
    const onState = (s: ChannelState) => {
      states.set(ch.name, s);
      if (s.connected) on.onConnected(ch);
    };
    await ch.connect({ ...on, onMessage: on.onMessage(ch), onState }).catch((err) => {
      states.set(ch.name, { connected: false, detail: (err as Error).message });
      logger.error({ channel: ch.name, err: (err as Error).message }, 'channel failed to connect');
    });
  }
}
