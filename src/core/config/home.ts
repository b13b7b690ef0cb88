// The home layout, and group folders checked to stay inside groups/ before anything touches the disk.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from './project-root.js';

const FOLDER_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const RESERVED = new Set(['global', 'main-global', 'conversations']);

export type HomePaths = ReturnType<typeof homePaths>;

export function homePaths(home: string) {
  const at = (...parts: string[]) => path.join(home, ...parts);
  return {
    home,
    store: at('store'),
    db: at('store', 'messages.db'),
    auth: at('store', 'auth'),
    groups: at('groups'),
    global: at('groups', 'global'),
    data: at('data'),
    logs: at('logs'),
    apiToken: at('data', 'api-token'),
    sockets: at('data', 'sockets'),
    sessions: at('data', 'sessions'),
  };
}

export function folderProblem(folder: unknown): string | null {
  if (typeof folder !== 'string' || !folder) return 'A group folder name is required.';
  if (folder.length > 64) return `Folder name is ${folder.length} characters; at most 64 are allowed.`;
  if (!FOLDER_PATTERN.test(folder))
    return `Folder name "${folder.slice(0, 80)}" is not allowed: use lowercase letters, digits, "-" and "_", starting with a letter or digit.`;
  if (RESERVED.has(folder)) return `Folder name "${folder}" is reserved; choose another.`;
  return null;
}

export function resolveGroupFolder(paths: HomePaths, folder: string): string {
  const problem = folderProblem(folder);
  if (problem) throw new Error(problem);
  const root = path.resolve(paths.groups);
  const resolved = path.resolve(root, folder);
  if (path.dirname(resolved) !== root) throw new Error(`Folder "${folder}" resolves outside groups/.`);
  const st = fs.lstatSync(resolved, { throwIfNoEntry: false });
  if (st && (st.isSymbolicLink() || !st.isDirectory()))
    throw new Error(`groups/${folder} exists but is not a plain directory; move it away and try again.`);
  return resolved;
}

// A new folder's CLAUDE.md from templates/ beside this file. Agents write in these folders: 'wx' (O_EXCL) never
// follows a planted symlink, even a dangling one.
function seedFolder(dir: string, template: string, name: string) {
  fs.mkdirSync(dir, { recursive: true });
  const text = fs.readFileSync(path.join(projectRoot(), 'src', 'core', 'config', 'templates', template), 'utf8');
  try {
    fs.writeFileSync(path.join(dir, 'CLAUDE.md'), text.replaceAll('{{name}}', name), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

export function ensureGroupFolder(paths: HomePaths, folder: string, name: string): string {
  const dir = resolveGroupFolder(paths, folder);
  seedFolder(dir, 'group.md', name);
  return dir;
}

export function ensureHome(paths: HomePaths, assistantName: string): void {
  for (const dir of [paths.store, paths.groups, paths.data, paths.logs, paths.sessions])
    fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(paths.sockets, { recursive: true, mode: 0o700 });
  fs.chmodSync(paths.store, 0o700);
  fs.mkdirSync(paths.auth, { recursive: true, mode: 0o700 });
  seedFolder(paths.global, 'global.md', assistantName);
  seedFolder(path.join(paths.groups, 'main'), 'main.md', assistantName);
}

export function ensureApiToken({ apiToken: file }: HomePaths): string {
  let token = '';
  try {
    token = fs.readFileSync(file, 'utf8').trim();
  } catch {
    /* created below */
  }
  if (token.length < 32) {
    token = crypto.randomBytes(32).toString('base64url');
    fs.writeFileSync(file, token + '\n', { mode: 0o600 });
  }
  fs.chmodSync(file, 0o600);
  return token;
}
