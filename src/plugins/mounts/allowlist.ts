// Extra mounts, decided by an allowlist outside the home and never mounted, so an agent cannot widen its access:
// {"allowedRoots": [{"path": "~/projects", "allowReadWrite": true}], "blockedPatterns": [], "nonMainReadOnly": true}
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Mount, RegisteredGroup, SandboxSettings } from '../../core/types.js';
import { INSIDE } from '../../core/sandbox/mounts.js';

export const ALLOWLIST_FILE = 'mount-allowlist.json';
export const EXTRA_MOUNT_ROOT = INSIDE.extra;

/** Never mountable, wherever they are: keys, tokens and the tools' credential stores. */
export const DEFAULT_BLOCKED_PATTERNS = `.ssh .gnupg .gpg .aws .azure .gcloud .kube .docker .env .netrc .npmrc
  .pypirc .git-credentials .pgpass .password-store .vault-token .terraform.d .config/gcloud .config/gh
  .config/nanoclaw .local/share/keyrings Keychains id_rsa id_dsa id_ecdsa id_ed25519 credentials private_key
  secrets .secrets`.split(/\s+/);

export interface AllowedRoot {
  path: string;
  allowReadWrite?: boolean;
  description?: string;
}

export interface MountAllowlist {
  allowedRoots: AllowedRoot[];
  blockedPatterns: string[];
  nonMainReadOnly: boolean;
}

export type ExtraMountRequest = NonNullable<SandboxSettings['extraMounts']>[number];

export type AllowlistLoad = { allowlist: MountAllowlist | null; file: string; error?: string };

export function allowlistPath(configDir: string): string {
  return path.join(configDir, ALLOWLIST_FILE);
}

export function loadMountAllowlist(configDir: string): AllowlistLoad {
  const file = allowlistPath(configDir);
  const fail = (error: string): AllowlistLoad => ({ allowlist: null, file, error });
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { allowlist: null, file };
    return fail(`Cannot read ${file}: ${(err as Error).message}`);
  }
  let data: any;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    return fail(`${file} is not valid JSON (${(err as Error).message}); fix it to allow extra mounts.`);
  }
  if (!data || typeof data !== 'object' || !Array.isArray(data.allowedRoots))
    return fail(`${file} needs "allowedRoots": [{ "path": "~/projects", "allowReadWrite": false }].`);
  const roots: AllowedRoot[] = [];
  for (const r of data.allowedRoots) {
    if (!r || typeof r.path !== 'string' || !r.path.trim()) return fail(`${file}: every allowed root needs a "path".`);
    roots.push({
      path: r.path,
      allowReadWrite: r.allowReadWrite === true,
      description: typeof r.description === 'string' ? r.description : undefined,
    });
  }
  const extra = Array.isArray(data.blockedPatterns)
    ? data.blockedPatterns.filter((p: unknown): p is string => typeof p === 'string' && p.trim() !== '')
    : [];
  return {
    allowlist: {
      allowedRoots: roots,
      blockedPatterns: [...DEFAULT_BLOCKED_PATTERNS, ...extra],
      nonMainReadOnly: data.nonMainReadOnly !== false,
    },
    file,
  };
}

export function expandHome(p: string, homedir: string): string {
  if (p === '~') return homedir;
  if (p.startsWith('~/')) return path.join(homedir, p.slice(2));
  return p;
}

export function containerPathProblem(p: unknown): string | null {
  if (typeof p !== 'string' || !p.trim()) return 'a container path is required (a name such as "projects")';
  if (p.includes(':'))
    return `container path "${p}" contains ":", which container runtimes read as an option separator`;
  if (p.startsWith('/')) return `container path "${p}" must be relative; it is mounted under ${EXTRA_MOUNT_ROOT}/`;
  if (p.split('/').some((seg) => seg === '..'))
    return `container path "${p}" contains "..", which could escape ${EXTRA_MOUNT_ROOT}/`;
  if (!/^[A-Za-z0-9._\-/]{1,100}$/.test(p))
    return `container path "${p}" may only use letters, digits, ".", "_", "-" and "/"`;
  if (p.split('/').some((seg) => seg === '' || seg === '.')) return `container path "${p}" has an empty or "." segment`;
  return null;
}

export function blockedBy(realPath: string, patterns: string[]): string | null {
  const parts = realPath.split(path.sep).filter(Boolean);
  for (const pattern of patterns) {
    if (pattern.includes('/')) {
      const seq = pattern.split('/');
      for (let i = 0; i + seq.length <= parts.length; i++) if (seq.every((s, j) => parts[i + j] === s)) return pattern;
      continue;
    }
    for (const part of parts) {
      if (part === pattern || part.startsWith(pattern + '.')) return pattern;
      if (!pattern.startsWith('.') && part.includes(pattern)) return pattern;
    }
  }
  return null;
}

function within(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface ResolveOptions {
  isMain: boolean;
  load: AllowlistLoad;
  /** Never mountable, nor anything holding them. */
  protectedPaths: string[];
  homedir?: string;
}

/** All or nothing: a group never starts with half its mounts. */
export function resolveExtraMounts(
  requested: ExtraMountRequest[] | undefined,
  opts: ResolveOptions,
): { ok: true; mounts: Mount[] } | { ok: false; error: string } {
  if (!requested || requested.length === 0) return { ok: true, mounts: [] };
  const homedir = opts.homedir ?? os.homedir();
  const { load } = opts;
  if (load.error) return { ok: false, error: load.error };
  if (!load.allowlist)
    return {
      ok: false,
      error: `extra mounts need a mount allowlist, and there is none at ${load.file}; create it with the folders you allow`,
    };
  const allowlist = load.allowlist;
  const realRoots = allowlist.allowedRoots.flatMap((r) => {
    try {
      return [{ root: r, real: fs.realpathSync(expandHome(r.path, homedir)) }];
    } catch {
      return [];
    }
  });
  const realProtected = opts.protectedPaths.map((p) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  });
  const seen = new Set<string>();
  const mounts: Mount[] = [];
  for (const req of requested) {
    const label = typeof req?.hostPath === 'string' ? req.hostPath : String(req?.hostPath);
    const refuse = (why: string) => ({ ok: false as const, error: `extra mount "${label}" was refused: ${why}` });
    if (!req || typeof req.hostPath !== 'string' || !req.hostPath.trim()) return refuse('a host path is required');
    const cpProblem = containerPathProblem(req.containerPath);
    if (cpProblem) return refuse(cpProblem);
    if (seen.has(req.containerPath)) return refuse(`container path "${req.containerPath}" is used twice`);
    seen.add(req.containerPath);
    const expanded = expandHome(req.hostPath, homedir);
    if (!path.isAbsolute(expanded)) return refuse('the host path must be absolute (or start with ~/)');
    // Check the names as written and as resolved: a harmless-looking symlink can point at ~/.ssh.
    const writtenBlock = blockedBy(path.resolve(expanded), allowlist.blockedPatterns);
    if (writtenBlock) return refuse(`it matches the blocked pattern "${writtenBlock}"`);
    let real: string;
    try {
      real = fs.realpathSync(expanded);
    } catch {
      return refuse(`${expanded} does not exist`);
    }
    const realBlock = blockedBy(real, allowlist.blockedPatterns);
    if (realBlock) return refuse(`it resolves to ${real}, which matches the blocked pattern "${realBlock}"`);
    for (const p of realProtected) {
      if (within(real, p) || within(p, real))
        return refuse(`it would expose NanoClaw's own files (${p}), which hold credentials and every group's data`);
    }
    const root = realRoots.find((r) => within(real, r.real));
    if (!root) return refuse(`${real} is not under any allowed root in ${load.file}`);
    const readonly = req.readonly !== false;
    if (!readonly) {
      if (!root.root.allowReadWrite)
        return refuse(
          `read-write was asked, but the allowed root ${root.root.path} is read-only (set "allowReadWrite": true for it, or mount it read-only)`,
        );
      if (!opts.isMain && allowlist.nonMainReadOnly)
        return refuse(
          'read-write was asked, but non-main groups get extra mounts read-only ("nonMainReadOnly" in the allowlist)',
        );
    }
    mounts.push({ hostPath: real, containerPath: `${EXTRA_MOUNT_ROOT}/${req.containerPath}`, readonly });
  }
  return { ok: true, mounts };
}

export function extraMountsFor(
  group: Pick<RegisteredGroup, 'isMain' | 'sandbox'>,
  opts: { configDir: string; home: string },
): { ok: true; mounts: Mount[] } | { ok: false; error: string } {
  if (!group.sandbox.extraMounts?.length) return { ok: true, mounts: [] };
  return resolveExtraMounts(group.sandbox.extraMounts, {
    isMain: group.isMain,
    load: loadMountAllowlist(opts.configDir),
    protectedPaths: [opts.home, opts.configDir],
  });
}

/** The same check a sandbox start makes, for settings being saved: null, or why not. */
export function allowlistMountCheck(configDir: string, home: string) {
  return (group: Pick<RegisteredGroup, 'isMain' | 'sandbox'>, changed: Partial<SandboxSettings>): string | null => {
    const wanted = changed.extraMounts;
    if (!wanted?.length) return null;
    const res = extraMountsFor(
      { isMain: group.isMain, sandbox: { ...group.sandbox, extraMounts: wanted } },
      { configDir, home },
    );
    return res.ok ? null : res.error.charAt(0).toUpperCase() + res.error.slice(1) + '.';
  };
}
