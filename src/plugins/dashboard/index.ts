// The web dashboard: static pages on the local API's address; everything they show comes from /api/*.
import type { Plugin } from '../../core/plugin.js';
import { dashboardApp } from './dashboard.js';

export const dashboard: Plugin = {
  name: 'dashboard',
  setup: (core) => ({
    api: (app) =>
      app.route(
        '/',
        dashboardApp({
          status: () => core.status(),
          // The Activity page's errors are the health plugin's; without it there are none to show.
          recentErrors: (n) => core.store.usage?.recentErrors(n) ?? [],
        }),
      ),
  }),
};
