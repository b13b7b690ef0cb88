// Which limit stopped a sandbox: the kernel's counters in its cgroup (the limits plugin's groups, a container's).
import fs from 'node:fs';
import path from 'node:path';

export type LimitCounters = () => { oomKills: number; pidsRefused: number };
export const CGROUP_ROOT = '/sys/fs/cgroup';

export function readCgroupFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
const count = (file: string | null, key: string) =>
  file ? Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(readCgroupFile(file))?.[1] ?? 0) : 0;

/** OOM kills from memory.events (v2) or memory.oom_control (v1); refused forks from pids.events. */
export const cgroupCounters =
  (oomFile: string | null, pidsDir: string | null): LimitCounters =>
  () => ({
    oomKills: count(oomFile, 'oom_kill'),
    pidsRefused: count(pidsDir && path.join(pidsDir, 'pids.events'), 'max'),
  });

/** The folder of each controller's group ('' for v2's). */
export function cgroupDirs(pid: number | 'self' = 'self'): Map<string, string> {
  const out = new Map<string, string>();
  for (const [, list, p] of readCgroupFile(`/proc/${pid}/cgroup`).matchAll(/^\d+:([^:]*):(.*)$/gm))
    for (const c of list.split(',')) out.set(c, path.join(CGROUP_ROOT, c, p));
  return out;
}
