// Long conversations are saved to the group's conversations/ folder before the SDK compacts them into a summary.
import type { Plugin } from '../../core/plugin.js';
import { runnerModule } from '../../core/sandbox/mounts.js';

export const archive: Plugin = {
  name: 'archive',
  // Only the compiled runner.ts enters the sandbox.
  setup: () => ({ sandbox: () => ({ mounts: [runnerModule('archive')] }) }),
};
