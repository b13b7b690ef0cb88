// The platform channels NanoClaw runs, chosen from the configuration. Adding a
// platform is one new file in this folder and one entry here.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { resolveGroupFolder, type HomePaths } from '../config/home.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import { identityQueries } from '../store/identities.js';
import type { Channel } from '../types.js';

export interface ChannelContext {
  config: Config;
  paths: HomePaths;
  store: Store;
  logger: Logger;
  /** Tell the user something through whichever channel still works. */
  notifyOwner(text: string): void;
}

export function inboxDirFor(ctx: Pick<ChannelContext, 'store' | 'paths'>, jid: string): string | null {
  const group = ctx.store.groups.get(jid);
  if (!group) return null;
  // The agent owns its folder and may swap inbox for a link at any time: media-store checks it when a file is saved.
  try { return path.join(resolveGroupFolder(ctx.paths, group.folder), 'inbox'); } catch { return null; }
}

/** Downloads wait here, outside every sandbox, until they are whole. */
export function mediaStagingDir(paths: HomePaths): string {
  return path.join(paths.data, 'media-staging');
}

export function whatsappAuthDir(paths: HomePaths): string {
  return path.join(paths.auth, 'whatsapp');
}

/** WhatsApp runs once it has been linked (`nanoclaw auth whatsapp`). */
export function whatsappLinked(paths: HomePaths): boolean {
  return fs.existsSync(path.join(whatsappAuthDir(paths), 'creds.json'));
}

/** Platform libraries load only when their channel is configured, to keep an idle host small. */
export async function configuredChannels(ctx: ChannelContext): Promise<Channel[]> {
  const { config, logger } = ctx;
  const channels: Channel[] = [];
  if (config.telegramBotToken) {
    const { createTelegramChannel } = await import('./telegram/telegram.js');
    channels.push(createTelegramChannel({
      token: config.telegramBotToken,
      apiRoot: config.telegramApiRoot ?? undefined,
      assistantName: config.assistantName,
      logger: logger.child({ channel: 'telegram' }),
      inboxDirFor: (jid) => inboxDirFor(ctx, jid),
      stagingDir: mediaStagingDir(ctx.paths),
    }));
  }
  if (whatsappLinked(ctx.paths)) {
    const { createWhatsAppChannel } = await import('./whatsapp/whatsapp.js');
    channels.push(createWhatsAppChannel({
      authDir: whatsappAuthDir(ctx.paths),
      assistantName: config.assistantName,
      hasOwnNumber: config.assistantHasOwnNumber,
      logger: logger.child({ channel: 'whatsapp' }),
      inboxDirFor: (jid) => inboxDirFor(ctx, jid),
      stagingDir: mediaStagingDir(ctx.paths),
      identities: identityQueries(ctx.store.db),
      onLinkLost: (reason) => ctx.notifyOwner(`WhatsApp is no longer linked (${reason}). Run "nanoclaw auth whatsapp" to link it again; messages to WhatsApp wait until then.`),
    }));
  }
  return channels;
}
