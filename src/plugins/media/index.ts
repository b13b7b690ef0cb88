// Files in chats: those people send, saved in the group's inbox/ by way of a staging folder no sandbox sees; those
// the agent sends (send_message's file), copied at the call; and a turn's files as model content (runner.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MediaStore } from '../../core/channels/plugin.js';
import { resolveGroupFolder, type HomePaths } from '../../core/config/home.js';
import type { Plugin } from '../../core/plugin.js';
import { runnerModule } from '../../core/sandbox/mounts.js';
import type { Store } from '../../core/store/index.js';
import { extensionFor } from './file-types.js';
import { takeOutboundFile } from './outbound.js';
import { saveMedia } from './save.js';

type Where = { store: Pick<Store, 'groups'>; paths: HomePaths };

export function inboxDirFor(ctx: Where, jid: string): string | null {
  const group = ctx.store.groups.get(jid);
  // The agent may swap inbox for a link at any time: saveMedia checks it when a file is saved.
  try {
    return group ? path.join(resolveGroupFolder(ctx.paths, group.folder), 'inbox') : null;
  } catch {
    return null;
  }
}

export const mediaStagingDir = (paths: HomePaths): string => path.join(paths.data, 'media-staging');

/** Without a staging or outbox folder, a private one in the system's temporary folder. */
export function mediaStore(
  inboxFor: (jid: string) => string | null,
  stagingDir?: string,
  outboxDir?: string,
): MediaStore {
  return {
    takeOutbound: (groupDir, file) =>
      takeOutboundFile(groupDir, file, (outboxDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-outbox-')))),
    inboxDirFor: inboxFor,
    save: (inbox, { name, mimeType, fileName, ext = 'bin', ...file }) =>
      saveMedia({
        ...{ ...file, inbox, stagingDir },
        name: name ?? `${Date.now()}-${crypto.randomBytes(6).toString('hex')}.${extensionFor(mimeType, fileName, ext)}`,
      }),
  };
}

/** Registered chats' inboxes, staged in the home's data folder. */
export const hostMedia = (ctx: Where): MediaStore =>
  mediaStore((jid) => inboxDirFor(ctx, jid), mediaStagingDir(ctx.paths), path.join(ctx.paths.data, 'outbox-media'));

export const media: Plugin = {
  name: 'media',
  media: hostMedia,
  // Only the compiled runner.ts (a turn's files as model content) enters the sandbox.
  setup: () => ({ sandbox: () => ({ mounts: [runnerModule('media')] }) }),
};
