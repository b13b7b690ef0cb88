// A channel plugin: what the host needs of one chat platform, so nothing else names a platform (the chat-app kit in
// src/kit adds its setup forms and checks).
import type { Config } from '../config/config.js';
import type { HomePaths } from '../config/home.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import type { TakeOutbound } from '../tools/tools.js';
import type { Channel } from '../types.js';

/** Config.env: where a plugin reads its settings. */
export type Settings = Readonly<Record<string, string | undefined>>;

export interface PluginEnv {
  config: Config;
  paths: HomePaths;
  env: Settings;
}

export interface ChannelContext {
  config: Config;
  paths: HomePaths;
  store: Store;
  logger: Logger;
  notifyOwner(text: string): void;
  /** The media plugin's; without it files are neither saved (NO_MEDIA_NOTE) nor sent. */
  media?: MediaStore;
}

// Saved as `name` (a generated one) or under a new name with a harmless extension: fileName's, else the MIME type's,
// else `ext` (default bin).
export interface InboundFile {
  name?: string;
  mimeType?: string;
  fileName?: string;
  ext?: string;
  open(): Promise<Uint8Array | AsyncIterable<Uint8Array>>;
  maxBytes: number;
  signal?: AbortSignal;
}

export interface MediaStore {
  /** Null when the chat is not a registered group: then nothing is downloaded. */
  inboxDirFor(jid: string): string | null;
  /** Answers the path in the group folder ("inbox/<name>"); rejects with MediaTooLarge or MediaRefused. */
  save(inbox: string, file: InboundFile): Promise<string>;
  takeOutbound: TakeOutbound;
}

export class MediaTooLarge extends Error {}

/** The agent made its inbox a link or not a folder: nothing was saved. */
export class MediaRefused extends Error {}

export const REFUSED_NOTE = " (not saved: the group's inbox is not a plain folder)";
export const NO_MEDIA_NOTE = ' (not saved: files are not kept on this install)';

export interface ChannelPlugin {
  readonly name: string;
  readonly label: string;
  /** Always on, started by the host itself (the local channel). */
  readonly builtIn?: boolean;
  ownsJid(jid: string): boolean;
  /** Pairing offers strangers a code only in a one-to-one chat. */
  isDirectChat(jid: string): boolean;
  /** Only then is its platform library loaded. */
  configured(env: PluginEnv): boolean;
  start?(ctx: ChannelContext): Promise<Channel>;
}
