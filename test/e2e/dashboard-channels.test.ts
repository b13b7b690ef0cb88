// The dashboard's Channels page in headless Chromium against a real host:
// each plugin's state, a Telegram bot token stored from its form (checked with
// getMe against crabline's Bot API server, written to .env as `nanoclaw auth
// telegram` does), and WhatsApp linked from the page by QR code and by pairing
// code, through the same link flow as `nanoclaw auth whatsapp` over the fake
// Baileys socket (crabline's WhatsApp server has no QR flow).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { localPlugin } from '../../src/core/channels/local/plugin.js';
import { telegramPlugin } from '../../src/plugins/telegram/plugin.js';
import { dashboardLink, whatsappPlugin } from '../../src/plugins/whatsapp/plugin.js';
import { startCrabline, type Crabline } from '../support/crabline.js';
import { fakeSocketFactory } from '../support/fake-baileys-socket.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const BOT_TOKEN = '7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';

let env: TestEnv;
let tg: Crabline;
let profile: string;
let browser: BrowserContext;
let page: Page;
const sockets = fakeSocketFactory({ registered: false, pairingCode: 'K7QX2M9D' });

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH.`);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-chromium-'));
  tg = await startCrabline('telegram', path.join(profile, 'crabline'), [], { CRABLINE_BOT_TOKEN: BOT_TOKEN });
  env = await startTestEnv({
    env: { TELEGRAM_API_ROOT: tg.manifest.endpoints.apiRoot },
    host: {
      channels: [],
      channelPlugins: [
        localPlugin,
        telegramPlugin,
        { ...whatsappPlugin, link: dashboardLink(sockets.makeSocket as any) },
      ],
    },
  });
  browser = await chromium.launchPersistentContext(path.join(profile, 'chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-sync',
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(`${env.host.url}/#token=${encodeURIComponent(env.host.token)}`);
  await page.click('#tabs a[data-page="channels"]');
  await page.waitForSelector('#page-channels');
});

afterAll(async () => {
  await browser?.close();
  await env?.close();
  await tg?.stop();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

test('the Channels page shows each channel: connected, or not set up with its setup', async () => {
  await page.waitForSelector('article.channel.off[data-channel="whatsapp"]');
  expect(await page.textContent('article.channel[data-channel="local"]')).toContain('connected');
  for (const name of ['telegram', 'whatsapp']) {
    expect(await page.textContent(`article.channel.off[data-channel="${name}"]`)).toContain('not set up');
  }
});

test('a Telegram bot token typed into its form is checked with Telegram and saved to .env', async () => {
  const form = 'article.channel[data-channel="telegram"] form.token-form';
  await page.fill(`${form} input[name=TELEGRAM_BOT_TOKEN]`, 'not a token');
  await page.click(`${form} button[type=submit]`);
  await expect.poll(() => page.textContent(`${form} .form-msg`)).toContain('does not look like a Telegram bot token');
  expect(fs.existsSync(path.join(env.home, '.env'))).toBe(false);

  await page.fill(`${form} input[name=TELEGRAM_BOT_TOKEN]`, BOT_TOKEN);
  await page.click(`${form} button[type=submit]`);
  await expect.poll(() => page.textContent(`${form} .form-msg`)).toContain('Restart NanoClaw');
  const username = ((await (await fetch(`${tg.manifest.endpoints.apiRoot}/bot${BOT_TOKEN}/getMe`)).json()) as any)
    .result.username;
  expect(await page.textContent(`${form} .form-msg`)).toContain(`@${username}`);
  expect(fs.readFileSync(path.join(env.home, '.env'), 'utf8')).toContain(`TELEGRAM_BOT_TOKEN=${BOT_TOKEN}`);
  expect(fs.statSync(path.join(env.home, '.env')).mode & 0o777).toBe(0o600);
  // The token never comes back to the page.
  expect(await page.inputValue(`${form} input[name=TELEGRAM_BOT_TOKEN]`)).toBe('');
});

test('WhatsApp links from the page: the QR code to scan, then linked with a restart to connect', async () => {
  const card = 'article.channel[data-channel="whatsapp"]';
  await page.click(`${card} #link-qr-whatsapp`);
  await until(() => sockets.sockets.length === 1, 10_000, 'the link socket');
  sockets.latest().ev.emit('connection.update', { qr: '2@dashboard-qr-one,AbCdEf=,GhIjKl=,MnOpQr=' });
  const img = page.locator(`${card} #link-whatsapp img`);
  await img.waitFor();
  expect(await img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
  expect(await page.textContent(`${card} #link-whatsapp`)).toContain('Linked devices');
  fs.mkdirSync(path.resolve('test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.resolve('test-artifacts', 'channels-link.png'), fullPage: true });

  // The phone scans it: the device is linked and its credentials are saved.
  sockets.latest().open();
  await expect
    .poll(() => page.textContent(`${card} #link-whatsapp`), { timeout: 15_000 })
    .toContain('WhatsApp is linked');
  expect(await page.textContent(`${card} #link-whatsapp`)).toContain('Restart NanoClaw');
});

test('WhatsApp by pairing code: the number goes in, the code comes out', async () => {
  fs.rmSync(path.join(env.home, 'store', 'auth', 'whatsapp'), { recursive: true, force: true });
  const card = 'article.channel[data-channel="whatsapp"]';
  await page.fill(`${card} form.pairing-form input[name=phone]`, '+44 7700 900123');
  await page.click(`${card} form.pairing-form button[type=submit]`);
  await until(() => sockets.sockets.length === 2, 10_000, 'the link socket');
  // The first QR means the socket is ready; the channel asks for a pairing code instead.
  sockets.latest().ev.emit('connection.update', { qr: '2@ready' });
  await expect
    .poll(() => page.textContent(`${card} #link-whatsapp code.pairing-code`), { timeout: 15_000 })
    .toContain('K7QX');
  expect(sockets.latest().pairingRequests).toEqual(['447700900123']);
});
