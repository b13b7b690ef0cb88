// Every plugin this install runs, in order: enabling or disabling a feature is one line here.
// The core never imports this file; the host (src/host.ts) and the CLI are given the list.
import { gather, type Plugin } from '../core/plugin.js';
import { localPlugin } from '../core/channels/local/plugin.js';
import type { ChannelPlugin } from '../core/channels/plugin.js';
import type { RuntimeFactory } from '../core/sandbox/runtimes.js';
import { telegram } from './telegram/index.js';
import { whatsapp } from './whatsapp/index.js';
import { discord } from './discord/index.js';
import { slack } from './slack/index.js';
import { signal } from './signal/index.js';
import { media } from './media/index.js';
import { containers } from './containers/index.js';
import { limits } from './limits/index.js';
import { claudeLogin } from './claude-login/index.js';
import { mounts } from './mounts/index.js';
import { voice } from './voice/index.js';
import { browser } from './browser/index.js';
import { diskGuard } from './disk-guard/index.js';
import { egress } from './egress/index.js';
import { health } from './health/index.js';
import { failover } from './failover/index.js';
import { approvals } from './approvals/index.js';
import { pairing } from './pairing/index.js';
import { senderAllowlist } from './sender-allowlist/index.js';
import { forget } from './forget/index.js';
import { scheduler } from './scheduler/index.js';
import { dashboard } from './dashboard/index.js';
import { email } from './email/index.js';
import { archive } from './archive/index.js';
import { groups } from './groups/index.js';
import { search } from './search/index.js';
import { pacing } from './pacing/index.js';
import { models } from './models/index.js';
import { heartbeat } from './heartbeat/index.js';
import { mcp } from './mcp/index.js';
import { warm } from './warm/index.js';

export const PLUGINS: readonly Plugin[] = [
  telegram,
  whatsapp,
  discord,
  slack,
  signal,
  pacing,
  media,
  containers,
  limits,
  claudeLogin,
  // Host folders come before approvals, which stages them when the chat asks about writes.
  mounts,
  diskGuard,
  health,
  models,
  failover,
  egress,
  // Inbound steps run in this order: a sender the allowlist drops, then an opted-out one, then pairing, then
  // approval answers.
  senderAllowlist,
  forget,
  pairing,
  approvals,
  voice,
  browser,
  groups,
  search,
  // Before the scheduler: a beat is its task, any other task the scheduler's.
  heartbeat,
  scheduler,
  warm,
  email,
  archive,
  mcp,
  dashboard,
];

const brought = gather(PLUGINS, localPlugin);
/** The chat apps: the built-in local chat first, then each plugin's. */
export const CHANNELS: readonly ChannelPlugin[] = brought.channels;
/** Sandbox runtimes the plugins bring (bubblewrap is built in). */
export const RUNTIMES: Readonly<Record<string, RuntimeFactory>> = brought.runtimes;
