// The model credential, as the gateway needs it on every call. It never leaves
// the host. An API key is used as is. A Claude OAuth token may come with a
// refresh token in store/auth/claude.json:
//   { "accessToken": "...", "refreshToken": "...", "expiresAt": 1767225600000 }
// and is refreshed here, on the host, shortly before it expires; the new pair is
// written back (mode 0600) so a restart keeps it. A credential from the home's .env is read again when .env
// changes, so a key fixed with "nanoclaw auth claude" is used from the next model call, without a restart.
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import type { Credential } from '../../core/config/config.js';
import { registerSecret, registerSecretSettings } from '../../core/secrets.js';
import type { Logger } from '../../core/logger.js';

export const OAUTH_FILE = 'claude.json';
/** Claude Code's OAuth token endpoint and public client id. */
export const DEFAULT_TOKEN_URL = 'https://console.anthropic.com/v1/oauth/token';
export const DEFAULT_CLIENT_ID = '9d1c250a-e61b-44d9-88ed-5944d1962f5e';
/** Refresh this long before expiry, so a long model call does not start with a dying token. */
const REFRESH_MARGIN_MS = 5 * 60_000;

export interface OAuthState {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
}

export interface CredentialSourceDeps {
  /** From the environment / .env (config.credential). */
  initial: Credential | null;
  /** The home and its settings (config.env): where the credential came from .env, .env is followed. */
  home?: { dir: string; env: Readonly<Record<string, string | undefined>> };
  /** store/auth */
  authDir: string;
  tokenUrl?: string;
  clientId?: string;
  fetch?: typeof fetch;
  now?: () => number;
  logger?: Logger;
}

export interface CredentialSource {
  /** The credential to use now; throws with a message for the user when it expired and cannot be refreshed. */
  get(): Promise<Credential | null>;
}

function readState(file: string): { state: OAuthState | null; mtimeMs: number } {
  try {
    const st = fs.statSync(file);
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!data || typeof data.accessToken !== 'string' || !data.accessToken) return { state: null, mtimeMs: st.mtimeMs };
    registerSecret('CLAUDE_OAUTH_TOKEN', data.accessToken);
    if (typeof data.refreshToken === 'string') registerSecret('CLAUDE_OAUTH_REFRESH_TOKEN', data.refreshToken);
    return {
      state: {
        accessToken: data.accessToken,
        refreshToken: typeof data.refreshToken === 'string' && data.refreshToken ? data.refreshToken : undefined,
        expiresAt: typeof data.expiresAt === 'number' ? data.expiresAt : undefined,
      },
      mtimeMs: st.mtimeMs,
    };
  } catch {
    return { state: null, mtimeMs: -1 };
  }
}

function writeState(file: string, state: OAuthState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

const CREDENTIAL_VARS = ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN'] as const;

function readDotEnv(file: string): Record<string, string | undefined> {
  try {
    const vars = parseEnv(fs.readFileSync(file, 'utf8'));
    registerSecretSettings(vars);
    return vars;
  } catch {
    return {};
  }
}

/** loadConfig's rule: the API key first. */
function credentialOf(vars: Record<string, string | undefined>): Credential | null {
  const apiKey = vars.ANTHROPIC_API_KEY?.trim();
  const oauth = vars.CLAUDE_CODE_OAUTH_TOKEN?.trim();
  return apiKey ? { kind: 'api-key', value: apiKey } : oauth ? { kind: 'oauth', value: oauth } : null;
}

function stamp(file: string): string {
  try {
    const st = fs.statSync(file);
    // .env is replaced by a rename (src/kit/env-file.ts): a new inode even within one mtime tick.
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch {
    return 'none';
  }
}

/** The configured credential, read again from .env whenever .env changes; what the environment set still wins. */
function followDotEnv(home: NonNullable<CredentialSourceDeps['home']>, initial: Credential | null) {
  const file = path.join(home.dir, '.env');
  let seen = stamp(file);
  const atStart = readDotEnv(file);
  const fromEnvironment = Object.fromEntries(
    CREDENTIAL_VARS.filter((v) => home.env[v] !== undefined && home.env[v] !== atStart[v]).map((v) => [v, home.env[v]]),
  );
  let current = initial;
  return (): Credential | null => {
    const now = stamp(file);
    if (now !== seen) {
      seen = now;
      current = credentialOf({ ...readDotEnv(file), ...fromEnvironment });
    }
    return current;
  };
}

export function createCredentialSource(deps: CredentialSourceDeps): CredentialSource {
  const initial = deps.home ? followDotEnv(deps.home, deps.initial) : () => deps.initial;
  const file = path.join(deps.authDir, OAUTH_FILE);
  const now = deps.now ?? Date.now;
  const doFetch = deps.fetch ?? fetch;
  const tokenUrl = deps.tokenUrl ?? DEFAULT_TOKEN_URL;
  const clientId = deps.clientId ?? DEFAULT_CLIENT_ID;
  let cached: OAuthState | null = null;
  let cachedMtime = -2;
  let inFlight: Promise<OAuthState> | null = null;

  const current = (): OAuthState | null => {
    // The file wins over the environment: it holds the newest token after a refresh.
    const { state } = readStateIfChanged();
    if (state) return state;
    const cred = initial();
    return cred?.kind === 'oauth' ? { accessToken: cred.value } : null;
  };
  const readStateIfChanged = (): { state: OAuthState | null; mtimeMs: number } => {
    let mtime = -1;
    try {
      mtime = fs.statSync(file).mtimeMs;
    } catch {
      /* no file */
    }
    if (mtime !== cachedMtime) {
      const r = readState(file);
      cached = r.state;
      cachedMtime = r.mtimeMs;
    }
    return { state: cached, mtimeMs: cachedMtime };
  };

  async function refresh(state: OAuthState): Promise<OAuthState> {
    const res = await doFetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: state.refreshToken, client_id: clientId }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`the token endpoint answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
    let data: any;
    try {
      data = JSON.parse(text);
    } catch {
      throw new Error('the token endpoint sent something that is not JSON');
    }
    if (typeof data?.access_token !== 'string' || !data.access_token)
      throw new Error('the token endpoint sent no access_token');
    registerSecret('CLAUDE_OAUTH_TOKEN', data.access_token);
    if (typeof data.refresh_token === 'string') registerSecret('CLAUDE_OAUTH_REFRESH_TOKEN', data.refresh_token);
    const next: OAuthState = {
      accessToken: data.access_token,
      // Some servers rotate the refresh token, some keep it.
      refreshToken:
        typeof data.refresh_token === 'string' && data.refresh_token ? data.refresh_token : state.refreshToken,
      expiresAt: typeof data.expires_in === 'number' ? now() + data.expires_in * 1000 : undefined,
    };
    writeState(file, next);
    cached = next;
    try {
      cachedMtime = fs.statSync(file).mtimeMs;
    } catch {
      /* written just now */
    }
    deps.logger?.info(
      { expiresAt: next.expiresAt ? new Date(next.expiresAt).toISOString() : null },
      'refreshed the Claude OAuth token',
    );
    return next;
  }

  return {
    async get() {
      const cred = initial();
      if (cred?.kind === 'api-key') return cred;
      const state = current();
      if (!state) return null;
      const due = state.expiresAt !== undefined && now() >= state.expiresAt - REFRESH_MARGIN_MS;
      if (!due || !state.refreshToken) {
        if (state.expiresAt !== undefined && now() >= state.expiresAt) {
          throw new Error(
            'The Claude OAuth token has expired and there is no refresh token: run "claude setup-token", put the new token in CLAUDE_CODE_OAUTH_TOKEN (or store/auth/claude.json), and restart.',
          );
        }
        return { kind: 'oauth', value: state.accessToken };
      }
      // One refresh at a time, however many sandboxes ask at once.
      inFlight ??= refresh(state).finally(() => {
        inFlight = null;
      });
      try {
        const next = await inFlight;
        return { kind: 'oauth', value: next.accessToken };
      } catch (err) {
        deps.logger?.warn({ err: (err as Error).message }, 'Claude OAuth token refresh failed');
        if (state.expiresAt !== undefined && now() < state.expiresAt)
          return { kind: 'oauth', value: state.accessToken };
        throw new Error(
          `The Claude OAuth token has expired and refreshing it failed (${(err as Error).message}): run "claude setup-token", put the new token in CLAUDE_CODE_OAUTH_TOKEN, and restart.`,
        );
      }
    },
  };
}
