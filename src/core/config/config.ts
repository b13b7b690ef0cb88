// Configuration, read once from the environment over `.env` and passed around: nothing else reads process.env.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { registerSecretSettings } from '../secrets.js';

/** sandbox/runtimes.ts must have exactly these; `auto` tries them in this order (bwrap last: it needs no daemon). */
export const RUNTIME_NAMES = ['docker', 'podman', 'apple', 'bwrap'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];
export type RuntimeChoice = 'auto' | RuntimeName;

export interface Credential {
  kind: 'api-key' | 'oauth';
  value: string;
}

export type Config = ReturnType<typeof loadConfig>;

function readDotEnv(home: string): Record<string, string> {
  try {
    return parseEnv(fs.readFileSync(path.join(home, '.env'), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

type Env = Record<string, string | undefined>;

/** A whole-number setting; plugins read theirs from `config.env` with it. */
export function intSetting(env: Env, name: string, fallback: number) {
  const value = env[name];
  if (!value) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${value}".`);
  return Math.floor(n);
}

function timeZone(value: string | undefined) {
  const tz = value?.trim();
  if (!tz) return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    throw new Error(
      `TZ=${tz.slice(0, 80)} is not a time zone; use one like Europe/Berlin (see timedatectl list-timezones).`,
    );
  }
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()) {
  const home = path.resolve(env.NANOCLAW_HOME || cwd);
  const merged = { ...readDotEnv(home), ...env };
  // From now on every token and key read here is hidden from logs, screens and answers.
  registerSecretSettings(merged);
  const runtime = (merged.NANOCLAW_RUNTIME || 'auto') as RuntimeChoice;
  const choices: string[] = ['auto', ...RUNTIME_NAMES];
  if (!choices.includes(runtime))
    throw new Error(`NANOCLAW_RUNTIME must be one of ${choices.join(', ')}; got "${runtime}".`);
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
  try {
    if (merged.NANOCLAW_SANDBOX_ENV) sandboxEnv = JSON.parse(merged.NANOCLAW_SANDBOX_ENV);
  } catch {
    throw new Error('NANOCLAW_SANDBOX_ENV must be a JSON object of strings.');
  }
  return {
    home,
    configDir: path.resolve(merged.NANOCLAW_CONFIG_DIR || path.join(os.homedir(), '.config', 'nanoclaw')),
    assistantName: name,
    timezone: timeZone(merged.TZ),
    httpPort: intSetting(merged, 'NANOCLAW_HTTP_PORT', 7878),
    httpHost: merged.NANOCLAW_HTTP_HOST || '127.0.0.1',
    runtime,
    maxConcurrentAgents: Math.max(1, intSetting(merged, 'MAX_CONCURRENT_AGENTS', 5)),
    agentTimeoutMs: intSetting(merged, 'AGENT_TIMEOUT', 30 * 60_000),
    idleTimeoutMs: intSetting(merged, 'IDLE_TIMEOUT', 5 * 60_000),
    anthropicBaseUrl: (merged.ANTHROPIC_BASE_URL || 'https://api.anthropic.com').replace(/\/+$/, ''),
    credential,
    // Plugins read their own settings here.
    env: merged as Readonly<Env>,
    retryBaseMs: intSetting(merged, 'NANOCLAW_RETRY_BASE_MS', 5_000),
    maxRetries: intSetting(merged, 'NANOCLAW_MAX_RETRIES', 5),
    logLevel: merged.LOG_LEVEL || 'info',
    // Tests point sandboxes at fakes with it. Never credentials.
    sandboxEnv,
  };
}
