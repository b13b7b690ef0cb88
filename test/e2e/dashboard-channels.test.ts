// The dashboard's Channels page in headless Chromium against a real host:
// each plugin's state; a Telegram bot token saved from its card (checked with
// getMe against the fake Bot API server, written to .env as `nanoclaw auth
// telegram` does) connects at once, with no restart, and the card and its
// result box say the truth in words and colour; a disconnected channel is
// changed, re-checked and removed from its card; `nanoclaw doctor` reports the
// running host's live state of it. WhatsApp is linked from the page by pairing
// code, through the same link flow as `nanoclaw auth whatsapp` over the fake
// Baileys socket (crabline's WhatsApp server has no QR flow), and the host then
// starts it at once: here WhatsApp cannot be reached, and the card says why.
// The QR code, and a link that connects and is answered, are in
// test/e2e/dashboard-link.test.ts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { localPlugin } from '../../src/core/channels/local/plugin.js';
import { telegramPlugin } from '../../src/plugins/telegram/plugin.js';
import { dashboardLink, whatsappPlugin } from '../../src/plugins/whatsapp/plugin.js';
import { ALICE, privateChat, startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { fakeSocketFactory } from '../support/fake-baileys-socket.js';
import { startTestEnv, TEST_KEY, until, type TestEnv } from '../support/harness.js';
import { openBrowser, type TestBrowser } from '../support/browser.js';

const CLI = path.resolve('dist/src/cli.js');
const BOT_TOKEN = '7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';
const OTHER_TOKEN = '7000000002:AAOtherTokenOtherTokenOtherTokenOth';
// A long, unbroken reason, as a proxy or Bot API server may give: it must wrap inside the card on a phone.
const MAINTENANCE = `Forbidden: closed for maintenance, see https://status.example.invalid/${'maintenance-window-'.repeat(10)}`;

let env: TestEnv;
let tg: FakeTelegram;
let browser: TestBrowser;
let page: Page;
const sockets = fakeSocketFactory({ registered: false, pairingCode: 'K7QX2M9D' });
const TELEGRAM = 'article.channel[data-channel="telegram"]';
const RESULT = `${TELEGRAM} .form-msg .notice`;

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json).`);
  tg = await startFakeTelegram({ token: BOT_TOKEN });
  env = await startTestEnv({
    // WhatsApp Web where nothing listens: once linked, the host's WhatsApp channel cannot connect.
    env: { TELEGRAM_API_ROOT: tg.apiRoot, WHATSAPP_WS_URL: `ws://127.0.0.1:${await closedPort()}/ws/chat` },
    script: () => ({ text: 'Hello from Telegram, set up from the page.' }),
    host: {
      channels: [],
      channelPlugins: [
        localPlugin,
        telegramPlugin,
        { ...whatsappPlugin, link: dashboardLink(sockets.makeSocket as any) },
      ],
    },
  });
  // Where `nanoclaw` finds the running host.
  fs.writeFileSync(path.join(env.home, 'data', 'host.json'), JSON.stringify({ url: env.host.url, pid: process.pid }));
  browser = await openBrowser({ viewport: { width: 1200, height: 860 } });
  page = browser.page;
  await page.goto(`${env.host.url}/#token=${encodeURIComponent(env.host.token)}`);
  await page.click('#tabs a[data-page="channels"]');
  await page.waitForSelector('#page-channels');
});

afterAll(async () => {
  await browser?.close();
  await env?.close();
  await tg?.close();
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** `nanoclaw doctor` as the user runs it, in the host's home. */
function doctor(): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'doctor'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? os.tmpdir(),
        NO_COLOR: '1',
        NANOCLAW_HOME: env.home,
        NANOCLAW_CONFIG_DIR: path.join(env.home, '.config-nanoclaw'),
        NANOCLAW_RUNTIME: 'bwrap',
        ANTHROPIC_API_KEY: TEST_KEY,
        ANTHROPIC_BASE_URL: env.fake.url,
        TELEGRAM_API_ROOT: tg.apiRoot,
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

const telegramLine = (out: string) => out.split('\n').find((l) => /^\s+\S\s+Telegram\s/.test(l)) ?? '';
const background = (selector: string) => page.$eval(selector, (el) => getComputedStyle(el).backgroundColor);
const envFile = () => fs.readFileSync(path.join(env.home, '.env'), 'utf8');
const running = () => env.host.channels.find((c) => c.name === 'telegram');

test('the Channels page shows each channel: connected, or not set up with its setup', async () => {
  await page.waitForSelector('article.channel.off[data-channel="whatsapp"]');
  expect(await page.textContent('article.channel[data-channel="local"]')).toContain('connected');
  for (const name of ['telegram', 'whatsapp']) {
    expect(await page.textContent(`article.channel.off[data-channel="${name}"]`)).toContain('not set up');
  }
});

test('a Telegram token that is malformed or refused by Telegram is not saved, and the box is red', async () => {
  const form = `${TELEGRAM} form.token-form`;
  await page.fill(`${form} input[name=TELEGRAM_BOT_TOKEN]`, 'not a token');
  await page.click(`${form} button[type=submit]`);
  await expect.poll(() => page.textContent(RESULT)).toContain('does not look like a Telegram bot token');
  expect(await page.getAttribute(RESULT, 'class')).toContain('error');

  await page.fill(`${form} input[name=TELEGRAM_BOT_TOKEN]`, OTHER_TOKEN);
  await page.click(`${form} button[type=submit]`);
  await expect.poll(() => page.textContent(RESULT)).toContain('Telegram refused this token');
  expect(await page.getAttribute(RESULT, 'class')).toContain('error');
  expect(fs.existsSync(path.join(env.home, '.env'))).toBe(false);
  expect(running()).toBeUndefined();
});

test('a token saved while Telegram does not answer: an amber box, a red card with the reason, wrapped on a phone; doctor says so', async () => {
  // getMe fails for the check when saving, and again when the host connects.
  tg.failNext('getMe', { error_code: 403, description: MAINTENANCE }, 2);
  const form = `${TELEGRAM} form.token-form`;
  await page.fill(`${form} input[name=TELEGRAM_BOT_TOKEN]`, BOT_TOKEN);
  await page.click(`${form} button[type=submit]`);
  await expect.poll(() => page.textContent(RESULT), { timeout: 20_000 }).toContain('not connected');
  const box = await page.textContent(RESULT);
  expect(box).toContain('not checked with Telegram');
  expect(box).toContain('closed for maintenance');
  expect(await page.getAttribute(RESULT, 'class')).toContain('warn');
  expect(envFile()).toContain(`TELEGRAM_BOT_TOKEN=${BOT_TOKEN}`);
  expect(fs.statSync(path.join(env.home, '.env')).mode & 0o777).toBe(0o600);
  // The token never comes back to the page: the field is empty and says it is set.
  expect(await page.inputValue(`${form} input[name=TELEGRAM_BOT_TOKEN]`)).toBe('');

  // The host runs it now, without a restart: disconnected, with the reason, and what can be done about it.
  const card = `#channels ${TELEGRAM}`;
  await expect.poll(() => page.getAttribute(card, 'data-state')).toBe('disconnected');
  expect(await page.getAttribute(card, 'class')).toContain('bad');
  expect(await page.textContent(`${card} .detail`)).toContain('closed for maintenance');
  for (const action of ['Re-check', 'Change token', 'Remove'])
    expect(await page.locator(`${card} .actions button`, { hasText: action }).count()).toBe(1);
  expect(await page.getAttribute(`${card} input[name=TELEGRAM_BOT_TOKEN]`, 'placeholder')).toContain('set');
  expect(await page.content()).not.toContain(BOT_TOKEN.split(':')[1]);

  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.click(`${card} .actions button.edit`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, 'the Channels page is wider than the phone').toBeLessThanOrEqual(0);
    const [cardBox, detailBox] = [
      await page.locator(card).boundingBox(),
      await page.locator(`${card} .detail`).boundingBox(),
    ];
    expect(detailBox!.x + detailBox!.width).toBeLessThanOrEqual(cardBox!.x + cardBox!.width);
    fs.mkdirSync(path.resolve('test-artifacts'), { recursive: true });
    await page.screenshot({ path: path.resolve('test-artifacts', 'phone-channels-disconnected.png'), fullPage: true });
    await page.click(`${card} .actions button.edit`);
  } finally {
    await page.setViewportSize({ width: 1200, height: 860 });
  }

  const sick = await doctor();
  expect(telegramLine(sick.stdout)).toMatch(/✗ Telegram\s+disconnected: .*closed for maintenance/);
  expect(sick.stdout).not.toMatch(/✓ Telegram/);
  expect(sick.code).toBe(1);
});

test('Re-check connects it: the card turns green and a message in that Telegram chat is answered, with no restart', async () => {
  const card = `#channels ${TELEGRAM}`;
  const amber = await background(RESULT);
  await page.locator(`${card} .actions button`, { hasText: 'Re-check' }).click();
  await expect.poll(() => page.textContent(RESULT), { timeout: 20_000 }).toContain('Telegram is connected');
  expect(await page.textContent(RESULT)).toContain(`@${tg.bot.username}`);
  expect(await page.getAttribute(RESULT, 'class')).toContain('ok');
  expect(await background(RESULT), 'a success is not coloured like the warning').not.toBe(amber);
  await expect.poll(() => page.getAttribute(card, 'data-state')).toBe('connected');
  expect(await page.getAttribute(card, 'class')).toContain('ok');

  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: `tg:${ALICE.id}`, name: 'Alice', folder: 'alice', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
  tg.push({ chat: privateChat(ALICE), from: ALICE, text: 'hello, are you there?' });
  await until(() => tg.sent.some((m) => m.chatId === ALICE.id), 90_000, 'the answer in Telegram');
  expect(tg.sent.find((m) => m.chatId === ALICE.id)!.text).toBe('Hello from Telegram, set up from the page.');

  const well = await doctor();
  expect(telegramLine(well.stdout)).toMatch(new RegExp(`✓ Telegram\\s+connected \\(@${tg.bot.username}\\)`));
});

test('changing to a token Telegram refuses says so in red and keeps the working one connected', async () => {
  const card = `#channels ${TELEGRAM}`;
  await page.click(`${card} .actions button.edit`);
  await page.fill(`${card} input[name=TELEGRAM_BOT_TOKEN]`, OTHER_TOKEN);
  await page.click(`${card} form.token-form button[type=submit]`);
  await expect.poll(() => page.textContent(RESULT)).toContain('Telegram refused this token');
  expect(await page.getAttribute(RESULT, 'class')).toContain('error');
  expect(envFile()).toContain(`TELEGRAM_BOT_TOKEN=${BOT_TOKEN}`);
  expect(running()?.isConnected()).toBe(true);
  expect(await page.getAttribute(card, 'data-state')).toBe('connected');
});

test('Remove, confirmed, takes the token out of .env and disconnects it: the card says not set up', async () => {
  const card = `#channels ${TELEGRAM}`;
  const remove = page.locator(`${card} .actions button.danger`);
  await remove.click();
  expect(await remove.textContent()).toContain('Click again');
  expect(running()?.isConnected()).toBe(true);
  await remove.click();
  await expect.poll(() => page.textContent(RESULT), { timeout: 20_000 }).toContain('no longer set up');
  expect(envFile()).not.toContain('TELEGRAM_BOT_TOKEN');
  expect(running()).toBeUndefined();
  await expect.poll(() => page.getAttribute(`#channels-off ${TELEGRAM}`, 'data-state')).toBe('not set up');
  expect(await page.getAttribute(`#channels-off ${TELEGRAM}`, 'class')).toContain('off');
});

test('WhatsApp by pairing code: the number goes in, the code comes out; once linked it starts, and says why it cannot connect', async () => {
  const card = 'article.channel[data-channel="whatsapp"]';
  await page.fill(`${card} form.pairing-form input[name=phone]`, '+44 7700 900123');
  await page.click(`${card} form.pairing-form button[type=submit]`);
  await until(() => sockets.sockets.length === 1, 10_000, 'the link socket');
  // The first QR means the socket is ready; the channel asks for a pairing code instead.
  sockets.latest().ev.emit('connection.update', { qr: '2@ready' });
  await expect
    .poll(() => page.textContent(`${card} #link-whatsapp code.pairing-code`), { timeout: 15_000 })
    .toContain('K7QX');
  expect(sockets.latest().pairingRequests).toEqual(['447700900123']);

  // The code is entered on the phone: linked. The host starts WhatsApp at once, with no Re-check, and it cannot
  // reach WhatsApp Web: the result box and the card say so, with what to check.
  sockets.latest().open();
  const result = `${card} .form-msg .notice`;
  await expect.poll(() => page.textContent(result), { timeout: 30_000 }).toContain('WhatsApp is not connected');
  const box = await page.textContent(result);
  expect(box).toContain('WhatsApp is linked.');
  expect(box).toMatch(/Cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\): check this machine's internet connection/);
  expect(box).not.toContain('Re-check');
  expect(await page.getAttribute(result, 'class')).toContain('warn');
  await expect.poll(() => page.getAttribute(`#channels ${card}`, 'data-state')).toBe('disconnected');
  expect(await page.textContent(`#channels ${card} .detail`)).toContain('Cannot reach 127.0.0.1');
});
