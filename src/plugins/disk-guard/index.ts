// The disk guard: a space reserve the store can fall back on, per-chat folder quotas, and the chat that fills
// the disk stopped and held until space is freed, with the owner told.
import type { Plugin } from '../../core/plugin.js';
import { createDiskGuard, openReserve } from './disk-guard.js';

export const diskGuard: Plugin = {
  name: 'disk-guard',
  setup({ config, paths, logger, notifyOwner, agents }) {
    const disk = {
      paths,
      logger,
      reserveBytes: config.diskReserveMb * 1024 * 1024,
      quotaBytes: config.groupQuotaMb * 1024 * 1024,
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
