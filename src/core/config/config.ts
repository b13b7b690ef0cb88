// Configuration, read once from the environment (and `.env` in the home) and
// passed to every part that needs it. Nothing else reads process.env.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { registerSecretSettings } from '../secrets.js';

/** Every runtime NANOCLAW_RUNTIME may name besides `auto`; src/sandbox/runtimes.ts must have exactly these. */
export const RUNTIME_NAMES = ['docker', 'podman', 'apple', 'bwrap'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];
export type RuntimeChoice = 'auto' | RuntimeName;

export interface Credential {
  kind: 'api-key' | 'oauth';
  value: string;
}

export interface Config {
  home: string;
  configDir: string;
  assistantName: string;
  timezone: string;
  httpPort: number;
  httpHost: string;
  runtime: RuntimeChoice;
  maxConcurrentAgents: number;
  agentTimeoutMs: number;
  idleTimeoutMs: number;
  anthropicBaseUrl: string;
  credential: Credential | null;
  /**
   * The environment over `.env`, as read here. Channel plugins take their own
   * settings (tokens, API roots) from it, so adding a channel never touches this file.
   */
  env: Readonly<Record<string, string | undefined>>;
  /** Retry schedule for failed turns: first delay, doubled each try. */
  retryBaseMs: number;
  maxRetries: number;
  logLevel: string;
  /** Extra environment variables for the sandbox (tests use it to point at fakes). Never credentials. */
  sandboxEnv: Record<string, string>;
  /** The agent image for docker/podman/apple (NANOCLAW_IMAGE); null: this install's own tag. */
  sandboxImage: string | null;
  /** store/reserve size and the free-space floor below which the writing sandbox is stopped (NANOCLAW_DISK_RESERVE_MB). */
  diskReserveMb: number;
  /** Default folder quota per group (NANOCLAW_GROUP_QUOTA_MB; 0: none). */
  groupQuotaMb: number;
}

/** Reads `.env` from the home, without overriding what the environment already says. */
export function readDotEnv(home: string): Record<string, string> {
  const file = path.join(home, '.env');
  try {
    return parseEnv(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${value}".`);
  return Math.floor(n);
}

/** Why `tz` cannot be used as the time zone, or null when it is a real IANA zone. */
export function timeZoneProblem(tz: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return null;
  } catch {
    return `TZ=${tz.slice(0, 80)} is not a time zone; use one like Europe/Berlin (see timedatectl list-timezones).`;
  }
}

function timeZone(value: string | undefined): string {
  const tz = value?.trim();
  if (!tz) return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const problem = timeZoneProblem(tz);
  if (problem) throw new Error(problem);
  return tz;
}

/**
 * Why `home` cannot hold NanoClaw's state, or null. A missing home is fine when
 * it can be created: that is tried in its nearest existing parent (and the
 * probe removed), since permission bits alone lie for root and for /proc.
 */
export function homeProblem(home: string): string | null {
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(home);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return `it cannot be read (${code})`;
  }
  if (st) {
    if (!st.isDirectory()) return 'it is a file, not a folder';
    try {
      fs.accessSync(home, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
      return null;
    } catch {
      return 'you cannot write in it';
    }
  }
  let parent = path.dirname(home);
  while (!fs.existsSync(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent);
  try {
    fs.rmdirSync(fs.mkdtempSync(path.join(parent, '.nanoclaw-probe-')));
    return null;
  } catch (err) {
    return `it does not exist and cannot be created: ${parent} does not allow new folders (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
}

/** The home refused in words that say which setting to change, or null when it is usable. */
export function homeRefusal(config: Pick<Config, 'home'>, env: Record<string, string | undefined>): string | null {
  const problem = homeProblem(config.home);
  if (!problem) return null;
  const which = env.NANOCLAW_HOME
    ? `NANOCLAW_HOME=${env.NANOCLAW_HOME}`
    : `The current folder ${config.home} (the home when NANOCLAW_HOME is not set)`;
  return `${which} cannot be used as the NanoClaw home: ${problem}. Set NANOCLAW_HOME to a folder you own, e.g. NANOCLAW_HOME=~/nanoclaw.`;
}

export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Config {
  const home = path.resolve(env.NANOCLAW_HOME || cwd);
  const merged = { ...readDotEnv(home), ...env };
  // Every token and key read here is hidden from logs, screens and answers from now on.
  registerSecretSettings(merged);
  const runtime = (merged.NANOCLAW_RUNTIME || 'auto') as RuntimeChoice;
  const choices: string[] = ['auto', ...RUNTIME_NAMES];
  if (!choices.includes(runtime)) {
    throw new Error(`NANOCLAW_RUNTIME must be one of ${choices.join(', ')}; got "${runtime}".`);
  }
  const apiKey = merged.ANTHROPIC_API_KEY?.trim();
  const oauth = merged.CLAUDE_CODE_OAUTH_TOKEN?.trim();
  const credential: Credential | null = apiKey
    ? { kind: 'api-key', value: apiKey }
    : oauth
      ? { kind: 'oauth', value: oauth }
      : null;
  const name = (merged.ASSISTANT_NAME || 'Andy').trim();
  if (!name || name.length > 50 || /[\r\n]/.test(name))
    throw new Error('ASSISTANT_NAME must be 1-50 characters on one line.');
  let sandboxEnv: Record<string, string> = {};
  if (merged.NANOCLAW_SANDBOX_ENV) {
    try {
      sandboxEnv = JSON.parse(merged.NANOCLAW_SANDBOX_ENV);
    } catch {
      throw new Error('NANOCLAW_SANDBOX_ENV must be a JSON object of strings.');
    }
  }
  return {
    home,
    configDir: path.resolve(merged.NANOCLAW_CONFIG_DIR || path.join(os.homedir(), '.config', 'nanoclaw')),
    assistantName: name,
    timezone: timeZone(merged.TZ),
    httpPort: int(merged.NANOCLAW_HTTP_PORT, 7878, 'NANOCLAW_HTTP_PORT'),
    httpHost: merged.NANOCLAW_HTTP_HOST || '127.0.0.1',
    runtime,
    maxConcurrentAgents: Math.max(1, int(merged.MAX_CONCURRENT_AGENTS, 5, 'MAX_CONCURRENT_AGENTS')),
    agentTimeoutMs: int(merged.AGENT_TIMEOUT, 30 * 60_000, 'AGENT_TIMEOUT'),
    idleTimeoutMs: int(merged.IDLE_TIMEOUT, 5 * 60_000, 'IDLE_TIMEOUT'),
    anthropicBaseUrl: (merged.ANTHROPIC_BASE_URL || 'https://api.anthropic.com').replace(/\/+$/, ''),
    credential,
    env: merged,
    retryBaseMs: int(merged.NANOCLAW_RETRY_BASE_MS, 5_000, 'NANOCLAW_RETRY_BASE_MS'),
    maxRetries: int(merged.NANOCLAW_MAX_RETRIES, 5, 'NANOCLAW_MAX_RETRIES'),
    logLevel: merged.LOG_LEVEL || 'info',
    sandboxEnv,
    sandboxImage: merged.NANOCLAW_IMAGE?.trim() || null,
    diskReserveMb: int(merged.NANOCLAW_DISK_RESERVE_MB, 16, 'NANOCLAW_DISK_RESERVE_MB'),
    groupQuotaMb: int(merged.NANOCLAW_GROUP_QUOTA_MB, 1024, 'NANOCLAW_GROUP_QUOTA_MB'),
  };
}
