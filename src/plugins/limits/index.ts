// Kernel limits for bubblewrap sandboxes: each runs in its own cgroup (memory, processes, CPU) and is stopped,
// with the limit it hit, when it goes over. Enabled on every install by default; without it bwrap sets rlimits.
import type { Plugin } from '../../core/plugin.js';
import { bwrapRuntime } from '../../core/sandbox/runtimes.js';
import { cgroupLimits } from './cgroups.js';

export const limits: Plugin = {
  name: 'limits',
  // Takes the built-in bwrap's place: the same runtime, with a cgroup around each sandbox.
  runtimes: { bwrap: (ctx) => bwrapRuntime(ctx, cgroupLimits()) },
};
