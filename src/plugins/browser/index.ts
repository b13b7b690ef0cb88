// The agents' browser: agent-browser and Chromium in the sandbox, every request through its network policy.
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../core/config/project-root.js';
import type { Plugin } from '../../core/plugin.js';
import { INSIDE } from '../../core/sandbox/mounts.js';
import { browserSetup } from './browser.js';

export const browser: Plugin = {
  name: 'browser',
  setup() {
    // The compiled runner.ts tells the agent about the browser; the runner loads it from /app/plugins.
    const hostPath = path.join(projectRoot(), 'dist', 'src', 'plugins', 'browser', 'runner.js');
    return {
      sandbox({ runtime }) {
        const { mounts, env } = browserSetup(runtime.name);
        if (!mounts.length) return { mounts, env };
        if (!fs.existsSync(hostPath))
          throw new Error(`The browser plugin is not built (${hostPath} is missing): run "npm run build".`);
        return {
          mounts: [...mounts, { hostPath, containerPath: `${INSIDE.app}/plugins/browser.js`, readonly: true }],
          env,
        };
      },
    };
  },
};
