// The failover plugin: model calls go on to the fallbacks of NANOCLAW_MODEL_FALLBACKS (settings.ts) when the primary
// cannot answer, the chat hears once who answered, the primary is checked in the background (failover.ts), and
// GET /api/status says which upstream is in use and why. Every key stays on the host: the core's gateway sends.
import type { Plugin } from '../../core/plugin.js';
import { createFailover, type FailoverState } from './failover.js';
import { failoverSettings } from './settings.js';

declare module '../../core/api/types.js' {
  interface StatusResponse {
    /** Only with NANOCLAW_MODEL_FALLBACKS set. */
    failover?: FailoverState;
  }
}

export const failover: Plugin = {
  name: 'failover',
  setup(core) {
    const settings = failoverSettings(core.config.env);
    if (!settings.fallbacks.length) return;
    const { send, state, stop } = createFailover({
      ...settings,
      primary: core.config.anthropicBaseUrl,
      tell: (jid, text) => core.store.outbox.enqueue(jid, text, { kind: 'system' }),
      logger: core.logger,
      now: core.now,
    });
    return {
      gateway: { send },
      status: () => ({ failover: state() }),
      drain: stop,
    };
  },
};
