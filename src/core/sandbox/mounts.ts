// What a group's sandbox sees, the same on every runtime, and nothing else from the host.
import fs from 'node:fs';
import path from 'node:path';
import type { HomePaths } from '../config/home.js';
import { resolveGroupFolder } from '../config/home.js';
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

export function groupMounts(paths: HomePaths, group: Pick<RegisteredGroup, 'folder' | 'isMain'>): Mount[] {
  const groupDir = resolveGroupFolder(paths, group.folder);
  fs.mkdirSync(groupDir, { recursive: true });
  // Outside the group folder, so the agent cannot edit another session's transcript through its workspace.
  const state = path.join(paths.sessions, group.folder, '.claude');
  fs.mkdirSync(state, { recursive: true });
  const root = projectRoot();
  const runnerDir = path.join(root, 'dist', 'runner');
  if (!fs.existsSync(path.join(runnerDir, 'index.js'))) {
    throw new Error(`The runner is not built (${runnerDir} is missing): run "npm run build".`);
  }
  return [
    { hostPath: groupDir, containerPath: INSIDE.group, readonly: false },
    { hostPath: paths.global, containerPath: INSIDE.global, readonly: !group.isMain },
    { hostPath: state, containerPath: INSIDE.claudeState, readonly: false },
    { hostPath: path.join(root, 'package.json'), containerPath: `${INSIDE.app}/package.json`, readonly: true },
    { hostPath: runnerDir, containerPath: `${INSIDE.app}/runner`, readonly: true },
    { hostPath: path.join(root, 'node_modules'), containerPath: `${INSIDE.app}/node_modules`, readonly: true },
  ];
}

export function memoryFiles(paths: HomePaths, group: Pick<RegisteredGroup, 'folder'>): string[] {
  const groupDir = resolveGroupFolder(paths, group.folder);
  return [
    path.join(paths.global, 'CLAUDE.md'),
    path.join(groupDir, 'CLAUDE.md'),
    path.join(groupDir, '.claude', 'CLAUDE.md'),
  ];
}

// lstat only: the agent can put anything at these paths (a FIFO would block a read); ctime cannot be set back.
export function memoryStamp(paths: HomePaths, group: Pick<RegisteredGroup, 'folder'>): string {
  let files: string[];
  try {
    files = memoryFiles(paths, group);
  } catch {
    return 'unreadable';
  }
  return files
    .map((file) => {
      try {
        const st = fs.lstatSync(file, { bigint: true });
        return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}
