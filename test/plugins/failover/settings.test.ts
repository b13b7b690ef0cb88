// NANOCLAW_MODEL_FALLBACKS as a person writes it by hand: read as meant, or refused at start with what is wrong and
// how to write it, never repeating a key; doctor shows the list without keys.
import { describe, expect, test } from 'vitest';
import { checkFallbacks } from '../../../src/cli/doctor-checks.js';
import { loadConfig } from '../../../src/core/config/config.js';
import { redact } from '../../../src/core/secrets.js';
import { failoverSettings } from '../../../src/plugins/failover/settings.js';

const KEY = 'sk-ant-api03-second-account-4b1f9d';

describe('reading the list', () => {
  test('fallbacks in order, each with its key from its own setting and an optional model', () => {
    const s = failoverSettings({
      NANOCLAW_MODEL_FALLBACKS:
        ' url=https://api.anthropic.com/ key_env=SECOND_ACCOUNT , url=http://127.0.0.1:8080 model=qwen2.5-coder,',
      SECOND_ACCOUNT: KEY,
    });
    expect(s.fallbacks).toEqual([
      { url: 'https://api.anthropic.com', keyEnv: 'SECOND_ACCOUNT', key: KEY, model: null },
      { url: 'http://127.0.0.1:8080', keyEnv: null, key: null, model: 'qwen2.5-coder' },
    ]);
    expect(s.timeoutMs).toBe(30_000);
    // Its setting's name does not end in _KEY, yet the key is hidden everywhere.
    expect(redact(`sent ${KEY}`)).not.toContain(KEY);
  });

  test('unset: no fallbacks', () => {
    expect(failoverSettings({}).fallbacks).toEqual([]);
  });

  test.each([
    ['url=127.0.0.1:8080', /fallback 1: its url must start with http:\/\/ or https:\/\//],
    ['url=http://x:8080 model=a,model=b', /fallback 2: it has no url=/],
    ['url=http://x:8080 modle=a', /"modle" is not one of url, key_env, model/],
    ['url=http://x:8080 url=http://y', /url is given twice/],
    [
      'url=http://x:8080 key_env=NOT_SET',
      /key_env=NOT_SET names a setting that is not set; add NOT_SET=<the key> to \.env/,
    ],
    ['url=http://x:8080 key_env=lower', /key_env must be the name of a setting in capitals/],
    ['url=http://user:pw@x:8080', /holds a user or password/],
    ['http://x:8080', /word 1 is not name=value/],
  ])('%s is refused, saying what is wrong and how to write it', (list, why) => {
    expect(() => failoverSettings({ NANOCLAW_MODEL_FALLBACKS: list })).toThrow(why);
    expect(() => failoverSettings({ NANOCLAW_MODEL_FALLBACKS: list })).toThrow(
      /Write each fallback as "url=http:\/\/127\.0\.0\.1:8080 key_env=FALLBACK_1_API_KEY model=qwen2\.5-coder"/,
    );
  });

  test('a key written in the list is refused without being repeated', () => {
    for (const list of [`url=http://x key=${KEY}`, `url=http://x api_key=${KEY}`, `url=http://x ${KEY}`]) {
      let message = '';
      try {
        failoverSettings({ NANOCLAW_MODEL_FALLBACKS: list });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/fallback 1/);
      expect(message).not.toContain(KEY);
    }
  });

  test('timeouts that are not numbers are refused', () => {
    expect(() => failoverSettings({ NANOCLAW_FAILOVER_TIMEOUT_MS: 'soon' })).toThrow(
      /NANOCLAW_FAILOVER_TIMEOUT_MS must be a non-negative number/,
    );
  });
});

describe('doctor', () => {
  const config = (env: Record<string, string>) =>
    loadConfig({ NANOCLAW_HOME: '/nonexistent-nanoclaw-home', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', ...env });

  test('lists each fallback with where its key comes from, never the key', () => {
    const r = checkFallbacks(
      config({ NANOCLAW_MODEL_FALLBACKS: 'url=https://api.anthropic.com key_env=BACKUP_KEY', BACKUP_KEY: KEY }),
    );
    expect(r).toMatchObject({ level: 'ok', detail: '1 after http://127.0.0.1:9, tried in order' });
    expect(r!.notes).toEqual(['https://api.anthropic.com, key from BACKUP_KEY']);
    expect(JSON.stringify(r)).not.toContain(KEY);
  });

  test('a list the host would refuse fails, with the fix', () => {
    const r = checkFallbacks(config({ NANOCLAW_MODEL_FALLBACKS: 'url=ftp://x' }));
    expect(r).toMatchObject({ level: 'fail', fix: expect.stringContaining('Correct NANOCLAW_MODEL_FALLBACKS') });
    expect(r!.detail).toMatch(/must start with http/);
  });

  test('no fallbacks: no line', () => {
    expect(checkFallbacks(config({}))).toBeNull();
  });
});
