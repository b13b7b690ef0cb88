// Long conversations are saved to the group's conversations/ folder before the SDK compacts them into a summary.
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../core/config/project-root.js';
import type { Plugin } from '../../core/plugin.js';
import { INSIDE } from '../../core/sandbox/mounts.js';

export const archive: Plugin = {
  name: 'archive',
  setup() {
    // Only the compiled runner.ts enters the sandbox, where the runner loads it from /app/plugins.
    const hostPath = path.join(projectRoot(), 'dist', 'src', 'plugins', 'archive', 'runner.js');
    return {
      sandbox() {
        if (!fs.existsSync(hostPath))
          throw new Error(`The archive plugin is not built (${hostPath} is missing): run "npm run build".`);
        return { mounts: [{ hostPath, containerPath: `${INSIDE.app}/plugins/archive.js`, readonly: true }] };
      },
    };
  },
};
