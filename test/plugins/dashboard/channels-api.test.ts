// The dashboard's channel setup routes on their own (no host): what each refuses
// and why, and a link that fails says so. The browser flow is in
// test/e2e/dashboard-channels.test.ts.
import fs from 'node:fs';
import { afterEach, expect, test } from 'vitest';
import { localPlugin } from '../../../src/core/channels/local/plugin.js';
import type { ChannelPlugin } from '../../../src/core/channels/plugin.js';
import { telegramPlugin } from '../../../src/plugins/telegram/plugin.js';
import { loadConfig } from '../../../src/core/config/config.js';
import { homePaths } from '../../../src/core/config/home.js';
import { channelsApi } from '../../../src/plugins/dashboard/channels-api.js';
import { errorResponse } from '../../../src/core/api/errors.js';
import { makeHome, until } from '../../support/harness.js';

const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

function api(opts: { running?: string[]; link?: ChannelPlugin['link'] } = {}) {
  const home = makeHome('nanoclaw-chapi-');
  homes.push(home);
  const config = loadConfig({ NANOCLAW_HOME: home, TELEGRAM_API_ROOT: 'http://127.0.0.1:9' }, home);
  const saved: Record<string, string | null>[] = [];
  const linker: ChannelPlugin = {
    name: 'linker',
    label: 'Linker',
    ownsJid: () => false,
    isDirectChat: () => true,
    configured: () => false,
    link: opts.link,
  };
  const app = channelsApi({
    plugins: [localPlugin, telegramPlugin, linker],
    env: () => ({ config, paths: homePaths(home), env: config.env }),
    saveEnv: (values) => {
      saved.push(values);
      return `${home}/.env`;
    },
    running: () => opts.running ?? [],
  });
  app.onError(errorResponse);
  const call = async (method: string, path: string, json?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { call, saved };
}

test('a token is refused before anything is saved when it does not look right or is missing', async () => {
  const t = api();
  const bad = await t.call('POST', '/api/channels/telegram/token', { values: { TELEGRAM_BOT_TOKEN: 'nope' } });
  expect(bad.status).toBe(400);
  expect(bad.body.error).toContain('does not look like a Telegram bot token');
  expect((await t.call('POST', '/api/channels/telegram/token', { values: {} })).body.error).toContain('missing');
  expect(t.saved).toEqual([]);
});

test('a token that cannot be checked (Telegram unreachable) is saved, and the user is told both', async () => {
  const t = api();
  const token = '7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';
  const res = await t.call('POST', '/api/channels/telegram/token', { values: { TELEGRAM_BOT_TOKEN: ` ${token} ` } });
  expect(res.status).toBe(200);
  expect(res.body.message).toMatch(
    /saved, but not checked with Telegram\. Cannot reach 127\.0\.0\.1:9.*Restart NanoClaw/,
  );
  expect(t.saved).toEqual([{ TELEGRAM_BOT_TOKEN: token }]);
});

test('unknown and built-in channels, channels without that flow, and running channels are refused', async () => {
  const t = api({ running: ['linker'], link: async () => {} });
  expect((await t.call('POST', '/api/channels/nope/token', { values: {} })).status).toBe(404);
  expect((await t.call('POST', '/api/channels/local/link', {})).status).toBe(404);
  expect((await t.call('POST', '/api/channels/telegram/link', {})).body.error).toContain('not linked by QR code');
  expect((await t.call('POST', '/api/channels/linker/token', { values: {} })).body.error).toContain(
    'not set up with a token',
  );
  const running = await t.call('POST', '/api/channels/linker/link', {});
  expect(running.status).toBe(409);
  expect(running.body.error).toContain('already set up and running');
});

test('a link shows its codes, refuses a malformed phone number, and a failure says what happened', async () => {
  let fail!: (err: Error) => void;
  const t = api({
    link: (_env, o) => {
      o.onLinking({ pairingCode: 'K7QX2M9D' });
      return new Promise((_, reject) => (fail = reject));
    },
  });
  expect((await t.call('POST', '/api/channels/linker/link', { phone: 'call me' })).status).toBe(400);
  const started = await t.call('POST', '/api/channels/linker/link', { phone: '+44 7700 900123' });
  expect(started.status).toBe(202);
  expect(started.body.link).toMatchObject({ state: 'waiting', pairingCode: 'K7QX2M9D', qr: false });
  expect((await t.call('GET', '/api/channels/linker/link/qr.svg')).status).toBe(404);
  fail(new Error('WhatsApp was not linked within 5 minutes. Run "nanoclaw auth whatsapp" to try again.'));
  await until(
    async () => (await t.call('GET', '/api/channels/linker/link')).body.link.state === 'failed',
    5_000,
    'the failure',
  );
  expect((await t.call('GET', '/api/channels/linker/link')).body.link.problem).toContain('not linked within 5 minutes');
});

test('without a host to start it, a finished link says to restart NanoClaw', async () => {
  const t = api({ link: async () => {} });
  expect((await t.call('POST', '/api/channels/linker/link', {})).status).toBe(202);
  await until(
    async () => (await t.call('GET', '/api/channels/linker/link')).body.link.state === 'linked',
    5_000,
    'the link',
  );
  const { link } = (await t.call('GET', '/api/channels/linker/link')).body;
  expect(link.message).toBe(
    'Linker is linked. Restart NanoClaw for it to take effect (stop it and run "nanoclaw start", or "systemctl --user restart nanoclaw").',
  );
});

test('re-checking a channel that is not set up, and removing a linked one, are refused with what to do instead', async () => {
  const t = api();
  const check = await t.call('POST', '/api/channels/telegram/check');
  expect(check.status).toBe(400);
  expect(check.body.error).toContain('Telegram is not set up');
  const remove = await t.call('DELETE', '/api/channels/linker');
  expect(remove.status).toBe(400);
  expect(remove.body.error).toContain('unlink it in the app on your phone');
  expect((await t.call('DELETE', '/api/channels/local')).status).toBe(404);
  expect(t.saved).toEqual([]);
});
