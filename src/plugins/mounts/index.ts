// Host folders: a chat may see folders of this machine the owner listed in mount-allowlist.json (outside the
// home, never a secret's folder), each read-only or writable as listed. Without this plugin a chat sees none.
import { modeFor } from '../../core/ask.js';
import type { Plugin } from '../../core/plugin.js';
import { allowlistMountCheck, extraMountsFor } from './allowlist.js';

export const mounts: Plugin = {
  name: 'mounts',
  setup({ config, paths }) {
    const where = { configDir: config.configDir, home: paths.home };
    return {
      // Words in a command decide neither: deny keeps host folders read-only; ask leaves writable only the staged
      // copies approvals gives in their place (the owner approves the change set made in them).
      sandbox: ({ group, current }) => {
        const got = extraMountsFor(group, where);
        if (!got.ok) throw new Error(got.error);
        return { hostMounts: got.mounts, writable: modeFor(current(), 'mount_write') === 'allow' };
      },
      // Checked when saved, the same way as at a sandbox start, so a refused folder is refused at once.
      checkSettings: allowlistMountCheck(where.configDir, where.home),
    };
  },
};
