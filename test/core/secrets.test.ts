// The one redact() every sink uses: secrets registered from settings, `.env`
// writes and typed-in values, plus secret-shaped text nobody registered.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { setEnvValues } from '../../src/kit/env-file.js';
import { loadConfig } from '../../src/core/config/config.js';
import { redact, registerSecret } from '../../src/core/secrets.js';

test('every secret setting read by the config is hidden, by name, in every form it is written', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-redact-'));
  loadConfig({
    NANOCLAW_HOME: home,
    SLACK_SIGNING_SECRET: 'sign"ing\\secret-0123',
    EMAIL_PASSWORD: 'mail-pass-4567',
    TZ: 'UTC',
  });
  expect(redact('secret=sign"ing\\secret-0123')).toBe('secret=[redacted SLACK_SIGNING_SECRET]');
  // As JSON text (a log line) the same value is escaped: still hidden.
  expect(redact(JSON.stringify({ s: 'sign"ing\\secret-0123' }))).toBe('{"s":"[redacted SLACK_SIGNING_SECRET]"}');
  expect(redact('login with mail-pass-4567')).toBe('login with [redacted EMAIL_PASSWORD]');
  // Settings that are not secrets, and short values, are left alone.
  expect(redact(`home is ${home}; TZ UTC`)).toBe(`home is ${home}; TZ UTC`);
  fs.rmSync(home, { recursive: true, force: true });
});

test('a value saved later (nanoclaw auth, the dashboard) is hidden from then on', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-redact-'));
  expect(redact('token dc-later-token-0123456789')).toBe('token dc-later-token-0123456789');
  setEnvValues(home, { DISCORD_BOT_TOKEN: 'dc-later-token-0123456789', DISCORD_OWNER_ID: '123456789012' });
  expect(redact('token dc-later-token-0123456789')).toBe('token [redacted DISCORD_BOT_TOKEN]');
  expect(redact('owner 123456789012')).toBe('owner 123456789012');
  registerSecret('SECRET', 'typed-in-value-42');
  expect(redact('x typed-in-value-42 y')).toBe('x [redacted SECRET] y');
  fs.rmSync(home, { recursive: true, force: true });
});

test('secret-shaped text is hidden even when nobody registered it', () => {
  expect(redact('request to http://127.0.0.1:9/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe failed')).toBe(
    'request to http://127.0.0.1:9/bot[redacted telegram token]/getMe failed',
  );
  expect(redact('auth xoxb-1111-2222-abcdefghijkl and xapp-1-A0-123-abcdef0123')).toBe(
    'auth [redacted slack token] and [redacted slack token]',
  );
  expect(redact('key sk-ant-api03-abcdefghijklmnop')).toBe('key [redacted anthropic key]');
  expect(redact('GET https://me:hunter22@mail.example.com/inbox')).toBe(
    'GET https://me:[redacted]@mail.example.com/inbox',
  );
  expect(redact('Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345')).toBe('Authorization: Bearer [redacted]');
  // Ordinary text, times and addresses stay as they are.
  const plain = 'at 12:30:45 http://127.0.0.1:8080/api/v1/events {"a":"b@c"} user@example.com';
  expect(redact(plain)).toBe(plain);
});
