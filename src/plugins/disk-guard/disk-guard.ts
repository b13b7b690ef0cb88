// The disk guard: one chat must not be able to fill the disk under the whole
// assistant. Three defences, all on the disk that holds the home:
// - a reserve file (store/reserve) the store deletes when a write finds the
//   disk full, so accepted messages and replies are still saved; it is made
//   again once space is back;
// - a free-space watch while agents run: below the reserve size, the sandbox
//   whose folder grew is stopped, and that chat does not run again until
//   space is freed;
// - a per-group folder quota, checked before every run and while it runs.
// The owner's main chat hears which chat filled what; blocks survive a restart
// (data/disk-blocked.json) so a restart does not replay the turn into a full disk.
import fs from 'node:fs';
import path from 'node:path';
import type { HomePaths } from '../../core/config/home.js';
import type { Logger } from '../../core/logger.js';
import type { RegisteredGroup } from '../../core/types.js';

declare module '../../core/types.js' {
  interface SandboxSettings {
    /** This group's folder quota, over NANOCLAW_GROUP_QUOTA_MB. */
    diskQuotaMb?: number;
  }
}

const MB = 1024 * 1024;
/** A folder walk stops counting here (the total is then a lower bound, which is enough to refuse). */
const MAX_ENTRIES = 200_000;

export interface Reserve {
  /** Creates the file if it is missing and there is room. True if it is there. */
  ensure(): boolean;
  /** Deletes it; true if that freed space. */
  release(): boolean;
  present(): boolean;
}

export function createReserve(file: string, bytes: number): Reserve {
  const present = () => {
    try {
      return fs.statSync(file).size >= bytes;
    } catch {
      return false;
    }
  };
  return {
    present,
    ensure() {
      if (bytes <= 0) return false;
      if (present()) return true;
      const tmp = `${file}.tmp`;
      try {
        // Written, not truncated: a sparse file would reserve nothing.
        const fd = fs.openSync(tmp, 'w', 0o600);
        try {
          const chunk = Buffer.alloc(Math.min(bytes, MB));
          for (let done = 0; done < bytes; done += chunk.length)
            fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - done));
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        fs.renameSync(tmp, file);
        return true;
      } catch {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          /* nothing to clean */
        }
        return false;
      }
    },
    release() {
      if (!present()) return false;
      try {
        fs.rmSync(file, { force: true });
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Bytes a folder takes on disk (allocated blocks, so sparse files count as what they use). Never follows symlinks. */
export function folderBytes(dir: string): number {
  let total = 0;
  let seen = 0;
  const stack = [dir];
  while (stack.length && seen < MAX_ENTRIES) {
    const d = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) break;
      const p = path.join(d, e.name);
      try {
        const st = fs.lstatSync(p);
        total += st.blocks !== undefined ? st.blocks * 512 : st.size;
        if (st.isDirectory()) stack.push(p);
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return total;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * MB) return `${(n / (1024 * MB)).toFixed(1).replace(/\.0$/, '')} GB`;
  return `${Math.round(n / MB)} MB`;
}

export interface RunningAgent {
  group: RegisteredGroup;
  kill(reason: string): void;
  done: Promise<void>;
}

export interface DiskGuardDeps {
  paths: HomePaths;
  /** store/reserve, made by openReserve before the store opened. */
  reserve: Reserve;
  /** Size of store/reserve, and the free space below which the writing sandbox is stopped (0: off). */
  reserveBytes: number;
  /** Default folder quota per group (0: none); a group's sandbox.diskQuotaMb overrides it. */
  quotaBytes: number;
  logger: Logger;
  notifyOwner(text: string): void;
  running(): Iterable<RunningAgent>;
  /** Free bytes on the home's disk (tests pass their own). */
  freeBytes?(): number;
  intervalMs?: number;
}

interface Block {
  kind: 'disk' | 'quota';
  jid: string;
  reason: string;
  since: string;
}

export type DiskGuard = ReturnType<typeof createDiskGuard>;

const freeOnHome = (deps: Pick<DiskGuardDeps, 'paths' | 'freeBytes'>) =>
  deps.freeBytes ??
  (() => {
    const s = fs.statfsSync(deps.paths.home);
    return s.bavail * s.bsize;
  });

/**
 * Before the store opens: make the reserve, or, on a disk that is already low,
 * give it up so the host can work. The store deletes it when a write finds the disk full.
 */
export function openReserve(deps: Pick<DiskGuardDeps, 'paths' | 'reserveBytes' | 'logger' | 'freeBytes'>): Reserve {
  const reserve = createReserve(path.join(deps.paths.store, 'reserve'), deps.reserveBytes);
  const floor = deps.reserveBytes;
  if (floor <= 0) return reserve;
  const free = freeOnHome(deps);
  const freeNow = () => {
    try {
      return free();
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  };
  if (freeNow() < floor) {
    reserve.release();
    deps.logger.warn({ free: freeNow() }, 'disk guard: the disk is nearly full at start');
  } else if (!reserve.present() && freeNow() >= floor * 2) reserve.ensure();
  return reserve;
}

export function createDiskGuard(deps: DiskGuardDeps) {
  const { paths, logger, reserve } = deps;
  const stateFile = path.join(paths.data, 'disk-blocked.json');
  const floor = deps.reserveBytes;
  const free = freeOnHome(deps);
  const blocks = new Map<string, Block>(loadBlocks(stateFile));
  /** A group's folder size when its run started: growth is measured against it. */
  const baseline = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let ticks = 0;

  const folderOf = (g: RegisteredGroup) => path.join(paths.groups, g.folder);
  const quotaOf = (g: RegisteredGroup) => (g.sandbox.diskQuotaMb ? g.sandbox.diskQuotaMb * MB : deps.quotaBytes);
  const freeNow = () => {
    try {
      return free();
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  };
  const low = () => floor > 0 && freeNow() < floor;

  function save(): void {
    try {
      fs.writeFileSync(stateFile, JSON.stringify(Object.fromEntries(blocks)) + '\n');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not save the disk blocks; they last until restart');
    }
  }

  function block(g: RegisteredGroup, kind: Block['kind'], reason: string, ownerText: string): void {
    const had = blocks.get(g.folder);
    blocks.set(g.folder, { kind, jid: g.jid, reason, since: new Date().toISOString() });
    // Room for the host's own writes (the block file, the replies) once the writer is stopped.
    if (kind === 'disk') reserve.release();
    save();
    logger.warn({ group: g.folder, kind, reason }, 'disk guard: group blocked');
    if (!had || had.kind !== kind) {
      try {
        deps.notifyOwner(ownerText);
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'could not tell the owner about the disk');
      }
    }
  }

  function unblock(folder: string): void {
    if (!blocks.delete(folder)) return;
    save();
    logger.info({ group: folder }, 'disk guard: group unblocked');
  }

  /**
   * Space is back once the reserve could be made again. Releasing the reserve itself frees about `floor`,
   * so "above the floor" alone would let the chat that filled the disk run again at once.
   */
  function spaceBack(): boolean {
    if (floor <= 0) return true;
    if (!reserve.present() && freeNow() >= floor * 2) reserve.ensure();
    return reserve.present() && !low();
  }

  /** Space came back: let blocked-for-disk chats run. */
  function recover(): void {
    if (!spaceBack()) return;
    for (const [folder, b] of blocks) if (b.kind === 'disk') unblock(folder);
  }

  const label = (g: RegisteredGroup) => `"${g.name}" (${g.jid})`;
  const deleteHint = (g: RegisteredGroup) => `delete files in ${path.join(paths.groups, g.folder)}/`;

  function overQuota(g: RegisteredGroup, size: number): string | null {
    const quota = quotaOf(g);
    if (quota <= 0 || size <= quota) return null;
    return `this chat's folder holds ${formatBytes(size)}, over its ${formatBytes(quota)} quota`;
  }
  const quotaOwnerText = (g: RegisteredGroup, size: number) =>
    `⚠️ ${label(g)}: its folder groups/${g.folder}/ holds ${formatBytes(size)}, over its ${formatBytes(quotaOf(g))} quota. It will not run until you ${deleteHint(g)} (or raise its quota: sandbox.diskQuotaMb, or NANOCLAW_GROUP_QUOTA_MB for all groups). Its messages are kept and answered then.`;
  const diskOwnerText = (g: RegisteredGroup, grew: number, size: number) =>
    `⚠️ ${label(g)} filled the disk: groups/${g.folder}/ grew by ${formatBytes(grew)} to ${formatBytes(size)} and only ${formatBytes(Math.max(0, freeNow()))} is free on the disk holding ${paths.home}. Its sandbox was stopped; it will not run again until space is freed: ${deleteHint(g)}. Its messages are kept and answered then.`;

  /** Why this group may not run now, or null (then its run is watched). Called before every run. */
  function refusal(g: RegisteredGroup): string | null {
    recover();
    const size = folderBytes(folderOf(g));
    const quota = overQuota(g, size);
    if (quota) {
      block(g, 'quota', quota, quotaOwnerText(g, size));
      return `${quota}; it will not run until the owner frees space (the owner was told)`;
    }
    const b = blocks.get(g.folder);
    if (b?.kind === 'quota') unblock(g.folder);
    if (b?.kind === 'disk') {
      if (!spaceBack()) return `${b.reason}; it will not run until space is freed (the owner was told)`;
      unblock(g.folder);
    }
    // The disk is low for another reason: give the host the reserve and let the run try.
    if (low()) reserve.release();
    baseline.set(g.folder, size);
    watch();
    return null;
  }

  /** After a run: over its quota, or the disk is now low and this folder grew (this chat filled it)? */
  function afterRun(g: RegisteredGroup): void {
    if (blocks.has(g.folder)) return;
    const size = folderBytes(folderOf(g));
    const quota = overQuota(g, size);
    if (quota) {
      block(g, 'quota', quota, quotaOwnerText(g, size));
      return;
    }
    const grew = size - (baseline.get(g.folder) ?? size);
    if (low() && grew >= MB) block(g, 'disk', diskReason(grew), diskOwnerText(g, grew, size));
  }

  const diskReason = (grew: number) =>
    `the disk is nearly full (${formatBytes(Math.max(0, freeNow()))} free) after this chat's folder grew by ${formatBytes(grew)}`;

  function tick(): void {
    const agents = [...deps.running()];
    if (agents.length === 0) {
      stopWatch();
      return;
    }
    ticks++;
    const isLow = low();
    // Folder walks cost more than statfs: every tick only when the disk is low, else every 10th.
    if (!isLow && ticks % 10 !== 0) return;
    let worst: { a: RunningAgent; grew: number; size: number } | null = null;
    for (const a of agents) {
      if (blocks.has(a.group.folder)) continue;
      const size = folderBytes(folderOf(a.group));
      const quota = overQuota(a.group, size);
      if (quota) {
        block(a.group, 'quota', quota, quotaOwnerText(a.group, size));
        a.kill(`${quota} (the owner was told)`);
        continue;
      }
      const grew = size - (baseline.get(a.group.folder) ?? size);
      if (isLow && grew >= MB && (!worst || grew > worst.grew)) worst = { a, grew, size };
    }
    if (worst) {
      const { a, grew, size } = worst;
      block(a.group, 'disk', diskReason(grew), diskOwnerText(a.group, grew, size));
      a.kill(`${diskReason(grew)}; it will not run again until space is freed (the owner was told)`);
    }
  }

  function watch(): void {
    if (timer || (floor <= 0 && deps.quotaBytes <= 0)) return;
    timer = setInterval(tick, deps.intervalMs ?? 500);
    timer.unref();
  }
  function stopWatch(): void {
    if (timer) clearInterval(timer);
    timer = null;
  }

  return {
    reserve,
    /** At start (after openReserve): chats held for a full disk run again if space is back. */
    startup(): void {
      if (floor > 0 && !low()) recover();
    },
    refusal,
    afterRun,
    blocked: () => new Map(blocks),
    stop: stopWatch,
  };
}

function loadBlocks(file: string): [string, Block][] {
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Block>;
    return Object.entries(raw).filter(
      ([, b]) => b && (b.kind === 'disk' || b.kind === 'quota') && typeof b.reason === 'string',
    );
  } catch {
    return [];
  }
}
