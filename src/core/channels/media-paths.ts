// Where a channel puts the files people send: a chat's inbox, by way of a staging folder no sandbox sees.
import path from 'node:path';
import { resolveGroupFolder, type HomePaths } from '../config/home.js';
import type { Store } from '../store/index.js';

export function inboxDirFor(ctx: { store: Pick<Store, 'groups'>; paths: HomePaths }, jid: string): string | null {
  const group = ctx.store.groups.get(jid);
  // The agent may swap inbox for a link at any time: media-store checks it when a file is saved.
  try {
    return group ? path.join(resolveGroupFolder(ctx.paths, group.folder), 'inbox') : null;
  } catch {
    return null;
  }
}

export const mediaStagingDir = (paths: HomePaths): string => path.join(paths.data, 'media-staging');
