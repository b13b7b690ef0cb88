// The agents' browser: agent-browser and Chromium in the sandbox, every request through its network policy.
import type { Plugin } from '../../core/plugin.js';
import { runnerModule } from '../../core/sandbox/mounts.js';
import { browserSetup } from './browser.js';

export const browser: Plugin = {
  name: 'browser',
  setup() {
    return {
      sandbox({ runtime }) {
        const { mounts, env } = browserSetup(runtime.name);
        if (!mounts.length) return { mounts, env };
        // The compiled runner.ts tells the agent about the browser.
        return { mounts: [...mounts, runnerModule('browser')], env };
      },
    };
  },
};
