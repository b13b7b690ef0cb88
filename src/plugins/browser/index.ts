// The agents' browser: agent-browser and Chromium in the sandbox, every request through its network policy.
import type { Plugin } from '../../core/plugin.js';
import { browserSetup } from './browser.js';

export const browser: Plugin = {
  name: 'browser',
  setup: () => ({ sandbox: ({ runtime }) => browserSetup(runtime.name) }),
};
