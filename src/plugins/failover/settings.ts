// NANOCLAW_MODEL_FALLBACKS: the upstreams tried after ANTHROPIC_BASE_URL, in order, read and checked once at start.
// A key is never written in the list itself: each fallback names the setting that holds it (key_env), so the list
// can be shown in status and doctor as it is.
import { intSetting } from '../../core/config/config.js';
import { registerSecret } from '../../core/secrets.js';

export interface Fallback {
  url: string;
  /** The setting holding its key; null for a local server that needs none. */
  keyEnv: string | null;
  key: string | null;
  /** The model it is asked for instead of the one the agent asked for; null: the same. */
  model: string | null;
}

export interface FailoverSettings {
  fallbacks: Fallback[];
  /** How long an upstream may take to start answering before the next one is tried. */
  timeoutMs: number;
  /** How often the primary is asked whether it answers again, while a fallback answers. */
  checkMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const EXAMPLE = 'url=http://127.0.0.1:8080 key_env=FALLBACK_1_API_KEY model=qwen2.5-coder';
const FIELDS = ['url', 'key_env', 'model'];

/** One fallback from `url=… key_env=… model=…`; throws saying which part is wrong. */
function parseEntry(entry: string, n: number, env: Env): Fallback {
  const bad = (what: string) =>
    new Error(
      `NANOCLAW_MODEL_FALLBACKS, fallback ${n}: ${what}. Write each fallback as "${EXAMPLE}" (key_env and model ` +
        `are optional), fallbacks separated by commas.`,
    );
  const fields: Record<string, string> = {};
  entry
    .trim()
    .split(/\s+/)
    .forEach((word, i) => {
      // The word itself is not repeated in the error: it may be a key written in the wrong place.
      const m = /^([a-z_]+)=(.+)$/i.exec(word);
      if (!m) throw bad(`word ${i + 1} is not name=value`);
      const name = m[1].toLowerCase();
      if (/key|token|secret/.test(name) && name !== 'key_env')
        throw bad(
          `"${name}=" would put a key in the list; write the key in its own setting (FALLBACK_${n}_API_KEY=…) and name it here with key_env=FALLBACK_${n}_API_KEY`,
        );
      if (!FIELDS.includes(name)) throw bad(`"${name}" is not one of ${FIELDS.join(', ')}`);
      if (fields[name] !== undefined) throw bad(`${name} is given twice`);
      fields[name] = m[2];
    });
  if (!fields.url) throw bad('it has no url=');
  if (!/^https?:\/\//i.test(fields.url)) throw bad('its url must start with http:// or https://');
  let url: URL;
  try {
    url = new URL(fields.url);
  } catch {
    throw bad('its url is not a URL like http://127.0.0.1:8080 or https://api.anthropic.com');
  }
  if (url.username || url.password)
    throw bad('its url holds a user or password; put the key in a setting named by key_env');
  if (url.search || url.hash) throw bad('its url has a query or fragment; give only the base, like ANTHROPIC_BASE_URL');
  const keyEnv = fields.key_env ?? null;
  if (keyEnv && !/^[A-Z_][A-Z0-9_]*$/.test(keyEnv))
    throw bad('key_env must be the name of a setting in capitals, like FALLBACK_1_API_KEY');
  const key = keyEnv ? env[keyEnv]?.trim() || null : null;
  if (keyEnv && !key) throw bad(`key_env=${keyEnv} names a setting that is not set; add ${keyEnv}=<the key> to .env`);
  // Hidden from every log and screen even when its name does not end in _KEY.
  if (keyEnv) registerSecret(keyEnv, key);
  return { url: url.href.replace(/\/+$/, ''), keyEnv, key, model: fields.model ?? null };
}

export function failoverSettings(env: Env): FailoverSettings {
  const list = env.NANOCLAW_MODEL_FALLBACKS?.trim() ?? '';
  const entries = list ? list.split(',').filter((e) => e.trim()) : [];
  return {
    fallbacks: entries.map((e, i) => parseEntry(e, i + 1, env)),
    timeoutMs: intSetting(env, 'NANOCLAW_FAILOVER_TIMEOUT_MS', 30_000),
    checkMs: intSetting(env, 'NANOCLAW_FAILOVER_CHECK_MS', 30_000),
  };
}

/** How the list reads in status and doctor: never a key, only the setting that holds it. */
export const describeFallback = (f: Fallback) =>
  [f.url, f.model && `model ${f.model}`, f.keyEnv ? `key from ${f.keyEnv}` : 'no key'].filter(Boolean).join(', ');
