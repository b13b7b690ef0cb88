// NanoClaw's host: the core with this install's plugins (src/plugins/index.ts).
import { startCore } from './core/host.js';
import type { Host, HostOptions } from './core/host-types.js';
import { createStore as createCoreStore, openStore as openCoreStore, type Store } from './core/store/index.js';
import type { DB } from './core/store/db.js';
import { PLUGINS } from './plugins/index.js';
import { gather } from './core/plugin.js';
import { localPlugin } from './core/channels/local/plugin.js';

export type { Host, HostOptions } from './core/host-types.js';
export type { HostStatus } from './core/status.js';
export type { InboundDecision as RouteDecision } from './core/inbound/receive.js';
export { storeProblem } from './core/store/problem.js';

export function startHost(opts: HostOptions): Promise<Host> {
  return startCore(opts, PLUGINS);
}

const { parts } = gather(PLUGINS, localPlugin);

/** The store with every plugin's queries (what the host opens): for the CLI, tests and tools. */
export function openStore(file: string, opts: { releaseSpace?: () => boolean } = {}): Store {
  return openCoreStore(file, { ...opts, parts });
}

export const createStore = (db: DB): Store => createCoreStore(db, parts);
