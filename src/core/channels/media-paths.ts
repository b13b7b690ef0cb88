// Where a channel puts the files people send: a registered chat's inbox, by
// way of a staging folder no sandbox sees.
import path from 'node:path';
import { resolveGroupFolder, type HomePaths } from '../config/home.js';
import type { Store } from '../store/index.js';

export function inboxDirFor(ctx: { store: Pick<Store, 'groups'>; paths: HomePaths }, jid: string): string | null {
  const group = ctx.store.groups.get(jid);
  if (!group) return null;
  // The agent owns its folder and may swap inbox for a link at any time: media-store checks it when a file is saved.
  try {
    return path.join(resolveGroupFolder(ctx.paths, group.folder), 'inbox');
  } catch {
    return null;
  }
}

/** Downloads wait here, outside every sandbox, until they are whole. */
export function mediaStagingDir(paths: HomePaths): string {
  return path.join(paths.data, 'media-staging');
}
