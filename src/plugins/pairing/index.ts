// DM pairing: a stranger in a direct chat gets a one-time code; the owner's "approve CODE" registers the chat.
import type { Plugin } from '../../core/plugin.js';
import type { Result } from '../../core/groups/registration.js';
import type { RegisteredGroup } from '../../core/types.js';
import { pairingApi } from './api.js';
import { approvePairing, pairingStep } from './pairing.js';
import { pairingStore, type PairingRequest, migrations } from './store.js';

declare module '../../core/host-types.js' {
  interface HostExtensions {
    /** Approve a pairing code (CLI, API). */
    approvePairing(code: string): Result<RegisteredGroup>;
    pendingPairings(): PairingRequest[];
  }
}

export const pairing: Plugin = {
  name: 'pairing',
  store: pairingStore,
  migrations,
  setup(core) {
    const { store, paths, logger, notifyOwner, conversation, channelPlugins } = core;
    const registry = { store, paths, assistantName: core.config.assistantName };
    const approve = (code: string) => approvePairing(registry, code.toUpperCase());
    const pendingPairings = () => store.pairing.pending();
    return {
      inbound: [pairingStep({ ...registry, logger, notifyOwner, conversation, plugins: channelPlugins })],
      api: (app) => app.route('/', pairingApi({ approvePairing: approve, pendingPairings })),
      expose: { approvePairing: approve, pendingPairings },
    };
  },
};
