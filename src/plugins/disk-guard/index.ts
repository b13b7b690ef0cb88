// The disk guard: a space reserve the store can fall back on, per-chat folder quotas, and the chat that fills
// the disk stopped and held until space is freed, with the owner told.
import { intSetting } from '../../core/config/config.js';
import type { Plugin } from '../../core/plugin.js';
import { createDiskGuard, openReserve } from './disk-guard.js';

export const diskGuard: Plugin = {
  name: 'disk-guard',
  setup({ config, paths, logger, notifyOwner, agents }) {
    const disk = {
      paths,
      logger,
      // store/reserve size, and the free space below which the writing sandbox is stopped.
      reserveBytes: intSetting(config.env, 'NANOCLAW_DISK_RESERVE_MB', 16) * 1024 * 1024,
      quotaBytes: intSetting(config.env, 'NANOCLAW_GROUP_QUOTA_MB', 1024) * 1024 * 1024,
    };
    const reserve = openReserve(disk);
    const guard = createDiskGuard({ ...disk, reserve, notifyOwner, running: () => agents.values() });
    guard.startup();
    return {
      releaseSpace: () => reserve.release(),
      // A chat over its folder quota, or the one that filled the disk, waits until space is freed.
      refuseRun: (group) => guard.refusal(group),
      afterRun: (group) => guard.afterRun(group),
      drain: guard.stop,
    };
  },
};
