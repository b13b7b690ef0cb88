// What a group's sandbox sees, the same on every runtime, and nothing else from the host.
import fs from 'node:fs';
import path from 'node:path';
import { resolveGroupFolder, type HomePaths } from '../config/home.js';
import { projectRoot } from '../config/project-root.js';
import type { Mount, RegisteredGroup } from '../types.js';

export const INSIDE = {
  group: '/workspace/group',
  global: '/workspace/global',
  claudeState: '/home/node/.claude',
  app: '/app',
  runner: '/app/runner/index.js',
  home: '/home/node',
  /** Where a chat's host folders appear. */
  extra: '/workspace/extra',
} as const;

const mount = (hostPath: string, containerPath: string, readonly: boolean) => ({ hostPath, containerPath, readonly });

/** A plugin's sandbox-side code (its built runner.ts), read-only where the runner loads it; refused if not built. */
export function runnerModule(plugin: string): Mount {
  const hostPath = path.join(projectRoot(), 'dist', 'src', 'plugins', plugin, 'runner.js');
  if (!fs.existsSync(hostPath))
    throw new Error(`The ${plugin} plugin is not built (${hostPath} is missing): run "npm run build".`);
  return mount(hostPath, `${INSIDE.app}/plugins/${plugin}.js`, true);
}

export function groupMounts(paths: HomePaths, group: Pick<RegisteredGroup, 'folder' | 'isMain'>): Mount[] {
  const groupDir = resolveGroupFolder(paths, group.folder);
  fs.mkdirSync(groupDir, { recursive: true });
  // Outside the group folder, so the agent cannot edit another session's transcript through its workspace.
  const state = path.join(paths.sessions, group.folder, '.claude');
  fs.mkdirSync(state, { recursive: true });
  const root = projectRoot();
  const runnerDir = path.join(root, 'dist', 'runner');
  if (!fs.existsSync(path.join(runnerDir, 'index.js')))
    throw new Error(`The runner is not built (${runnerDir} is missing): run "npm run build".`);
  return [
    mount(groupDir, INSIDE.group, false),
    mount(paths.global, INSIDE.global, !group.isMain),
    mount(state, INSIDE.claudeState, false),
    mount(path.join(root, 'package.json'), `${INSIDE.app}/package.json`, true),
    mount(runnerDir, `${INSIDE.app}/runner`, true),
    mount(path.join(root, 'node_modules'), `${INSIDE.app}/node_modules`, true),
  ];
}

// lstat only: the agent can put anything at these paths (a FIFO would block a read); ctime cannot be set back.
export function memoryStamp(paths: HomePaths, group: Pick<RegisteredGroup, 'folder'>): string {
  let groupDir: string;
  try {
    groupDir = resolveGroupFolder(paths, group.folder);
  } catch {
    return 'unreadable';
  }
  return [paths.global, groupDir, path.join(groupDir, '.claude')]
    .map((dir) => {
      try {
        const st = fs.lstatSync(path.join(dir, 'CLAUDE.md'), { bigint: true });
        return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}
