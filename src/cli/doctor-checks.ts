// The checks behind `nanoclaw doctor`. Each answers with what it found and, when
// something is wrong, the one thing to do about it. No check prints a secret.
import fs from 'node:fs';
import path from 'node:path';
import { RUNTIME_NAMES, type Config } from '../core/config/config.js';
import { homePaths } from '../core/config/home.js';
import { projectRoot } from '../core/config/project-root.js';
import { runtimeFactory, selectRuntime, type RuntimeContext } from '../core/sandbox/runtimes.js';
import { loadMountAllowlist } from '../plugins/mounts/allowlist.js';
import { pluginEnv, type ChannelPlugin } from '../core/channels/registry.js';
import { CHANNELS, RUNTIMES } from '../plugins/index.js';
import type { CheckResult } from '../kit/channel-setup.js';
import { fetchStatus, troubles } from './status.js';
import type { StatusResponse } from '../core/api/types.js';
import { post, probeModel, type PostFn } from './model-check.js';
import { describeStt, sttSettings } from '../plugins/voice/engine.js';
import { browserProblems } from '../plugins/browser/browser.js';
import { checkEmail } from '../plugins/email/connect.js';
import { describeFallback, failoverSettings } from '../plugins/failover/settings.js';

export type { CheckResult, Level } from '../kit/channel-setup.js';

export interface DoctorDeps {
  config: Config;
  env: NodeJS.ProcessEnv;
  nodeVersion?: string;
  post?: PostFn;
  upstreamTimeoutMs?: number;
  /** Whose checks run for the channels (default: the registry's). */
  plugins?: readonly ChannelPlugin[];
  /** Also say why each runtime not in use was passed over (doctor --all). */
  all?: boolean;
}

const MB = 1024 * 1024;

export function checkNode(version = process.versions.node): CheckResult {
  const major = Number(version.split('.')[0]);
  return major >= 20
    ? { name: 'Node.js', level: 'ok', detail: `v${version}` }
    : {
        name: 'Node.js',
        level: 'fail',
        detail: `v${version} is too old`,
        fix: 'Install Node.js 20 or newer (https://nodejs.org, or "nvm install 20").',
      };
}

export function checkBuild(): CheckResult {
  const runner = path.join(projectRoot(), 'dist', 'runner', 'index.js');
  return fs.existsSync(runner)
    ? { name: 'Build', level: 'ok', detail: 'runner built' }
    : { name: 'Build', level: 'fail', detail: `${runner} is missing`, fix: `Run "npm run build" in ${projectRoot()}.` };
}

/** Why each runtime would or would not be used. */
async function describeRuntimes(ctx: RuntimeContext) {
  const out = [];
  for (const name of RUNTIME_NAMES) {
    const runtime = runtimeFactory(name, ctx)?.(ctx);
    if (!runtime) continue;
    const check = await runtime.check();
    out.push({ name, ok: check.ok, detail: check.ok ? (runtime.describe?.() ?? name) : check.reason });
  }
  return out;
}

/** The runtime in use; the others only with `all` (doctor --all), since the user does not use them. */
export async function checkRuntime(config: Config, all = false): Promise<CheckResult> {
  const paths = homePaths(config.home);
  const ctx = { dataDir: paths.data, home: config.home, env: config.env, more: RUNTIMES };
  const { runtime, problems, skipped } = await selectRuntime(config.runtime, ctx);
  const notes = all ? (await describeRuntimes(ctx)).map((r) => `${r.ok ? '✓' : '✗'} ${r.name}: ${r.detail}`) : [];
  if (runtime) {
    const desc = runtime.describe?.() ?? runtime.name;
    if (!all && skipped.length)
      notes.push(`not used: ${skipped.map((s) => s.split(':')[0]).join(', ')} ("nanoclaw doctor --all" says why)`);
    return {
      name: 'Sandbox',
      level: 'ok',
      detail: `${desc}${config.runtime === 'auto' ? ' (picked automatically)' : ''}`,
      notes,
    };
  }
  return {
    name: 'Sandbox',
    level: 'fail',
    detail: 'no sandbox runtime works here',
    fix:
      problems.join(' ') ||
      'Install bubblewrap (apt-get install bubblewrap) or Docker, then run "nanoclaw doctor" again.',
    notes,
  };
}

export function checkCredential(config: Config, env: NodeJS.ProcessEnv): CheckResult {
  if (!config.credential) {
    return {
      name: 'Credential',
      level: 'fail',
      detail: 'no Anthropic credential',
      fix: `Run "nanoclaw auth claude", or put ANTHROPIC_API_KEY=… (or CLAUDE_CODE_OAUTH_TOKEN=…) in ${path.join(config.home, '.env')}.`,
    };
  }
  const key = config.credential.kind === 'api-key' ? 'ANTHROPIC_API_KEY' : 'CLAUDE_CODE_OAUTH_TOKEN';
  const where = env[key]?.trim() ? 'the environment' : '.env';
  return {
    name: 'Credential',
    level: 'ok',
    detail: `${config.credential.kind === 'api-key' ? 'API key' : 'OAuth token'} present (${key}, from ${where})`,
  };
}

/** .env holds credentials: only its owner may read it. */
export function checkEnvFile(home: string): CheckResult | null {
  const file = path.join(home, '.env');
  let mode: number;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch {
    return null;
  }
  return mode & 0o077
    ? { name: '.env', level: 'fail', detail: `readable by others (mode ${mode.toString(8)})`, fix: `chmod 600 ${file}` }
    : { name: '.env', level: 'ok', detail: 'only you can read it' };
}

/** The model API, asked once with the configured credential: a refused one fails here, naming it. */
export function checkUpstream(config: Config, postFn: PostFn = post, timeoutMs = 4000): Promise<CheckResult> {
  return probeModel(config, postFn, timeoutMs);
}

type Running = StatusResponse['channels'];

/**
 * Each channel plugin's own lines, in registry order. With the host running, a chat app's first line says what the
 * host sees (connected, or disconnected and why), so a token that is set but does not work is a problem here too.
 */
export function checkChannels(
  config: Config,
  plugins: readonly ChannelPlugin[] = CHANNELS,
  running: Running | null = null,
): CheckResult[] {
  const env = pluginEnv(config);
  return plugins.flatMap((p) => {
    const [first, ...rest] = p.doctor?.(env) ?? [];
    if (!first || !running || p.builtIn) return first ? [first, ...rest] : [];
    return [
      liveState(
        p,
        first,
        running.find((c) => c.name === p.name),
      ),
      ...rest,
    ];
  });
}

function liveState(p: ChannelPlugin, r: CheckResult, live: Running[number] | undefined): CheckResult {
  const page = "the dashboard's Channels page";
  // Settings that do not read say so themselves; one not set up and not running is as the plugin says.
  if (r.level === 'fail' || (!live && r.level !== 'ok')) return r;
  if (!live)
    return {
      ...r,
      level: 'warn',
      detail: `${r.detail}, but the running NanoClaw has not started it`,
      fix: `Press Re-check on its card on ${page}, or restart NanoClaw.`,
    };
  if (live.connected)
    return { ...r, level: 'ok', detail: `connected${live.detail ? ` (${live.detail})` : ''}; ${r.detail}` };
  if (live.linking)
    return {
      ...r,
      level: 'warn',
      detail: 'waiting to be linked',
      fix: `Link it on ${page}, or run "nanoclaw auth ${p.name}".`,
    };
  return {
    ...r,
    level: 'fail',
    detail: `disconnected${live.detail ? `: ${live.detail}` : ''} (${r.detail})`,
    fix: `Change its settings on ${page} (or run "nanoclaw auth ${p.name}"), then press Re-check there.`,
  };
}

export function checkDisk(home: string): CheckResult {
  let free: number;
  try {
    const st = fs.statfsSync(fs.existsSync(home) ? home : path.dirname(home));
    free = st.bavail * st.bsize;
  } catch (err) {
    return { name: 'Disk', level: 'warn', detail: `could not check free space (${(err as Error).message})` };
  }
  const text =
    free >= 10 * 1024 * MB ? `${Math.round(free / (1024 * MB))} GB free` : `${Math.round(free / MB)} MB free`;
  if (free < 500 * MB)
    return {
      name: 'Disk',
      level: 'fail',
      detail: text,
      fix: `Free some space on the disk holding ${home}: the database and agents need room to write.`,
    };
  if (free < 2048 * MB)
    return {
      name: 'Disk',
      level: 'warn',
      detail: text,
      fix: 'Less than 2 GB left; agent images and logs grow over time.',
    };
  return { name: 'Disk', level: 'ok', detail: text };
}

function privateDir(name: string, dir: string, missing: CheckResult): CheckResult {
  let mode: number;
  try {
    const st = fs.statSync(dir);
    if (!st.isDirectory())
      return {
        name,
        level: 'fail',
        detail: `${dir} is not a directory`,
        fix: `Move ${dir} away; NanoClaw recreates it.`,
      };
    mode = st.mode & 0o777;
  } catch {
    return missing;
  }
  if (mode & 0o077)
    return {
      name,
      level: 'fail',
      detail: `${dir} is open to others (mode ${mode.toString(8)})`,
      fix: `chmod 700 ${dir}`,
    };
  try {
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return {
      name,
      level: 'fail',
      detail: `${dir} is not writable by you`,
      fix: `Give it back to your user: chown -R $(id -un) ${dir}`,
    };
  }
  return { name, level: 'ok', detail: `${dir} (700)` };
}

export function checkStoreDir(home: string): CheckResult {
  const paths = homePaths(home);
  return privateDir('Store', paths.store, {
    name: 'Store',
    level: 'info',
    detail: `${paths.store} does not exist yet; "nanoclaw start" creates it`,
  });
}

export function checkConfigDir(configDir: string): CheckResult {
  const dir = privateDir('Config dir', configDir, {
    name: 'Config dir',
    level: 'ok',
    detail: `${configDir} does not exist (no mount allowlist: groups get no extra folders)`,
  });
  if (dir.level !== 'ok' || !fs.existsSync(configDir)) return dir;
  const load = loadMountAllowlist(configDir);
  if (load.error) return { name: 'Config dir', level: 'fail', detail: load.error, fix: `Fix or remove ${load.file}.` };
  const roots = load.allowlist?.allowedRoots.length ?? 0;
  return {
    ...dir,
    detail: `${dir.detail}; mount allowlist ${load.allowlist ? `allows ${roots} folder${roots === 1 ? '' : 's'}` : 'absent (no extra folders)'}`,
  };
}

export function checkApiToken(home: string): CheckResult | null {
  const file = homePaths(home).apiToken;
  let mode: number;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch {
    return null;
  }
  return mode & 0o077
    ? {
        name: 'API token',
        level: 'fail',
        detail: `${file} is readable by others (mode ${mode.toString(8)})`,
        fix: `chmod 600 ${file}`,
      }
    : { name: 'API token', level: 'ok', detail: 'only you can read it' };
}

export async function checkHost(config: Config, known?: Awaited<ReturnType<typeof fetchStatus>>): Promise<CheckResult> {
  const got = known ?? (await fetchStatus(config));
  if ('error' in got) {
    return got.running
      ? { name: 'Running', level: 'fail', detail: got.error }
      : {
          name: 'Running',
          level: 'info',
          detail: 'not running: start it with "nanoclaw start" (or "nanoclaw service install")',
        };
  }
  const issues = troubles(got.status);
  return issues.length
    ? { name: 'Running', level: 'warn', detail: `yes (pid ${got.status.pid}, ${got.api.base}), but:`, notes: issues }
    : { name: 'Running', level: 'ok', detail: `yes (pid ${got.status.pid}, ${got.api.base})` };
}

/** NANOCLAW_MODEL_FALLBACKS as the host will read it (which upstream answers now is in "Running"). */
export function checkFallbacks(config: Config): CheckResult | null {
  try {
    const { fallbacks } = failoverSettings(config.env);
    if (!fallbacks.length) return null;
    return {
      name: 'Model fallbacks',
      level: 'ok',
      detail: `${fallbacks.length} after ${config.anthropicBaseUrl}, tried in order`,
      notes: fallbacks.map(describeFallback),
    };
  } catch (err) {
    return {
      name: 'Model fallbacks',
      level: 'fail',
      detail: (err as Error).message,
      fix: 'Correct NANOCLAW_MODEL_FALLBACKS in .env; the host does not start until then.',
    };
  }
}

/** The speech engine for voice notes, and whether its model is there (optional: without one, notes are kept untranscribed). */
export function checkVoice(config: Config): CheckResult {
  try {
    const d = describeStt(sttSettings(config.env, homePaths(config.home).data));
    return { name: 'Voice', level: d.ok ? 'ok' : 'info', detail: d.detail, ...(d.fix ? { notes: [d.fix] } : {}) };
  } catch (err) {
    return {
      name: 'Voice',
      level: 'fail',
      detail: (err as Error).message,
      fix: 'Fix the NANOCLAW_STT settings in .env.',
    };
  }
}

/** Every check, in the order a person would fix things. */
/** The agents' browser (agent-browser and Chromium) for the runtime in use: optional, so a warning when missing. */
export async function checkBrowser(config: Config, problemsFor = browserProblems): Promise<CheckResult | null> {
  const paths = homePaths(config.home);
  const { runtime } = await selectRuntime(config.runtime, {
    dataDir: paths.data,
    home: config.home,
    env: config.env,
    more: RUNTIMES,
  });
  if (!runtime) return null;
  const problems = problemsFor(runtime.name);
  if (!problems.length)
    return {
      name: 'Browser',
      level: 'ok',
      detail: `agent-browser${runtime.name === 'bwrap' ? " with this machine's Chromium" : " with the image's Chromium"}`,
    };
  return {
    name: 'Browser',
    level: 'warn',
    detail: 'agents have no browser',
    notes: problems.slice(1),
    fix: problems[0],
  };
}

export async function runChecks(deps: DoctorDeps): Promise<CheckResult[]> {
  const { config, env } = deps;
  const host = await fetchStatus(config);
  const results: (CheckResult | null)[] = [
    checkNode(deps.nodeVersion),
    checkBuild(),
    await checkRuntime(config, deps.all),
    await checkBrowser(config),
    checkCredential(config, env),
    checkEnvFile(config.home),
    await checkUpstream(config, deps.post, deps.upstreamTimeoutMs),
    checkFallbacks(config),
    ...checkChannels(config, deps.plugins, 'status' in host ? host.status.channels : null),
    await checkEmail(config),
    checkVoice(config),
    checkDisk(config.home),
    checkStoreDir(config.home),
    checkApiToken(config.home),
    checkConfigDir(config.configDir),
    await checkHost(config, host),
  ];
  return results.filter((r): r is CheckResult => r !== null);
}
