// WhatsApp linked from the dashboard's Channels page is connected at once: no
// Re-check, no restart. The QR code is shown and "scanned" over the fake
// Baileys socket (crabline's WhatsApp Web server has no QR flow), which leaves
// the device linked to crabline's account, as a phone would leave it linked to
// yours. From there the host's own WhatsApp channel (the real Baileys socket)
// logs in to crabline on 127.0.0.1: the card turns green, and a message sent at
// crabline is answered there, counted at its recorder. `nanoclaw auth whatsapp`
// run while the host is up does the same, and prints what the host says.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localPlugin } from '../../src/core/channels/local/plugin.js';
import { dashboardLink, whatsappAuth, whatsappPlugin } from '../../src/plugins/whatsapp/plugin.js';
import { fakeSocketFactory, type FakeBaileysSocket } from '../support/fake-baileys-socket.js';
import { startCrabline, type Crabline, type Recorded } from '../support/crabline.js';
import { makeHome, startTestEnv, until, type TestEnv } from '../support/harness.js';
import { openBrowser, type TestBrowser } from '../support/browser.js';
import { authCommand } from '../../src/cli/auth.js';
import { loadConfig, type Config } from '../../src/core/config/config.js';

const ALICE = '15551234567@s.whatsapp.net';
const CARD = 'article.channel[data-channel="whatsapp"]';

let wa: Crabline;
let env: TestEnv;
let browser: TestBrowser;
let page: Page;
const sockets = fakeSocketFactory({ registered: false });
const crablineDir = makeHome('nanoclaw-crabline-');

/** Texts crabline accepted from the linked device for one chat, in order. */
function sentTo(lines: Recorded[], jid: string): string[] {
  return lines
    .filter((l) => l.type === 'api' && l.accepted && l.method === 'WEBSOCKET' && l.body?.key?.remoteJid === jid)
    .map((l) => String(l.body?.message?.conversation ?? l.body?.message?.extendedTextMessage?.text));
}

beforeAll(async () => {
  const home = makeHome('nanoclaw-dash-link-');
  // Its recorder outside the home, which the host removes while crabline may still be writing.
  wa = await startCrabline('whatsapp', crablineDir);
  env = await startTestEnv({
    home,
    env: { WHATSAPP_WS_URL: wa.manifest.endpoints.baileysWebSocketUrl },
    script: () => ({ text: 'Hello from WhatsApp, linked from the page.' }),
    host: {
      channels: [],
      channelPlugins: [localPlugin, { ...whatsappPlugin, link: dashboardLink(sockets.makeSocket) }],
    },
  });
  browser = await openBrowser({ viewport: { width: 1200, height: 860 } });
  page = browser.page;
  await page.goto(`${env.host.url}/#token=${encodeURIComponent(env.host.token)}`);
  await page.click('#tabs a[data-page="channels"]');
  await page.waitForSelector(`${CARD}.off`);
});

afterAll(async () => {
  await browser?.close();
  await env?.close();
  await wa?.stop();
  fs.rmSync(crablineDir, { recursive: true, force: true });
});

test('WhatsApp linked by QR code on the page connects at once, and a message there is answered', async () => {
  await page.click(`${CARD} #link-qr-whatsapp`);
  await until(() => sockets.sockets.length === 1, 10_000, 'the link socket');
  const linking = sockets.latest();
  linking.ev.emit('connection.update', { qr: '2@dashboard-qr-one,AbCdEf=,GhIjKl=,MnOpQr=' });
  const img = page.locator(`${CARD} #link-whatsapp img`);
  await img.waitFor();
  expect(await img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
  expect(await page.textContent(`${CARD} #link-whatsapp`)).toContain('Linked devices');
  fs.mkdirSync(path.resolve('test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.resolve('test-artifacts', 'channels-link.png'), fullPage: true });

  // The phone scans it: WhatsApp opens the connection for the account (crabline's) and hands the device its identity.
  const me = { id: `${wa.manifest.selfJid.split('@')[0]}:1@s.whatsapp.net`, name: 'Me' };
  linking.user = me;
  linking.ev.emit('connection.update', { connection: 'open' });
  linking.ev.emit('creds.update', { me });

  // Nobody presses Re-check: the result box and the card say it is connected.
  const result = `${CARD} .form-msg .notice`;
  await expect.poll(() => page.textContent(result), { timeout: 30_000 }).toContain('WhatsApp is connected');
  expect(await page.textContent(result)).toContain('WhatsApp is linked');
  expect(await page.textContent(result)).not.toContain('Re-check');
  expect(await page.getAttribute(result, 'class')).toContain('ok');
  await expect.poll(() => page.getAttribute(`#channels ${CARD}`, 'data-state'), { timeout: 10_000 }).toBe('connected');
  const link = await env.api('/api/channels/whatsapp/link');
  expect((await link.json()).link).toMatchObject({ state: 'linked', level: 'ok' });
  expect(wa.recorded().some((l) => l.body?.attrs?.xmlns === 'passive')).toBe(true);

  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: ALICE, name: 'Alice', folder: 'alice', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
  await wa.inject({ chatJid: ALICE, senderJid: ALICE, text: 'hello, are you there?' });
  const lines = await wa.untilRecorded((ls) => sentTo(ls, ALICE).length >= 1, 90_000, 'the answer in WhatsApp');
  expect(sentTo(lines, ALICE)).toEqual(['Andy: Hello from WhatsApp, linked from the page.']);
});

describe('`nanoclaw auth whatsapp` while NanoClaw runs', () => {
  let wa2: Crabline;
  let env2: TestEnv;
  // The command's link goes over the fake socket too; the host's channel is the real one, to crabline.
  const cliSockets = fakeSocketFactory({ registered: false });
  const plugins = [{ ...whatsappPlugin, auth: whatsappAuth(cliSockets.makeSocket) }];
  const crablineDir2 = makeHome('nanoclaw-crabline-');

  beforeAll(async () => {
    const home = makeHome('nanoclaw-cli-link-');
    wa2 = await startCrabline('whatsapp', crablineDir2);
    env2 = await startTestEnv({
      home,
      env: { WHATSAPP_WS_URL: wa2.manifest.endpoints.baileysWebSocketUrl },
      script: () => ({ text: 'Hello from WhatsApp, linked from the terminal.' }),
    });
    // Where `nanoclaw` finds the running host.
    fs.writeFileSync(path.join(home, 'data', 'host.json'), JSON.stringify({ url: env2.host.url, pid: process.pid }));
  });
  afterAll(async () => {
    await env2?.close();
    await wa2?.stop();
    fs.rmSync(crablineDir2, { recursive: true, force: true });
  });

  /** `nanoclaw auth whatsapp` in this process (the fake socket cannot cross into a spawned one): what it printed. */
  async function authWhatsApp(config: Config, phone: (socket: FakeBaileysSocket) => void) {
    let out = '';
    const made = cliSockets.sockets.length;
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof write;
    try {
      const running = authCommand(['whatsapp'], config, {}, plugins);
      await until(() => cliSockets.sockets.length === made + 1, 10_000, 'the link socket');
      phone(cliSockets.latest());
      return { code: await running, out };
    } finally {
      process.stdout.write = write;
    }
  }

  /** The QR code is shown, and scanned on the phone: linked to crabline's account. */
  const scanned = (socket: FakeBaileysSocket) => {
    socket.ev.emit('connection.update', { qr: '2@terminal-qr,AbCdEf=,GhIjKl=,MnOpQr=' });
    const me = { id: `${wa2.manifest.selfJid.split('@')[0]}:1@s.whatsapp.net`, name: 'Me' };
    socket.user = me;
    socket.ev.emit('connection.update', { connection: 'open' });
    socket.ev.emit('creds.update', { me });
  };

  test('with NanoClaw not running, it says the link takes effect when NanoClaw starts', async () => {
    const home = makeHome('nanoclaw-cli-link-off-');
    const run = await authWhatsApp(loadConfig({ NANOCLAW_HOME: home }, home), scanned);
    expect(run.out).toContain('WhatsApp is linked (credentials in store/auth/whatsapp).');
    expect(run.out).toContain('It takes effect when NanoClaw starts ("nanoclaw start").');
    expect(run.code).toBe(0);
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('the running host connects it at once, the command says so, and a message there is answered', async () => {
    expect(env2.host.channels.some((c) => c.name === 'whatsapp')).toBe(false);
    const run = await authWhatsApp(env2.config, scanned);
    expect(run.out).toContain('WhatsApp is linked (credentials in store/auth/whatsapp).');
    expect(run.out).toContain('WhatsApp is connected.');
    expect(run.out).not.toContain('Restart');
    expect(run.code).toBe(0);
    expect(env2.host.channels.find((c) => c.name === 'whatsapp')?.isConnected()).toBe(true);

    const res = await env2.api('/api/groups', {
      method: 'POST',
      json: { jid: ALICE, name: 'Alice', folder: 'alice', requiresTrigger: false },
    });
    expect(res.status).toBe(201);
    await wa2.inject({ chatJid: ALICE, senderJid: ALICE, text: 'hello, are you there?' });
    const lines = await wa2.untilRecorded((ls) => sentTo(ls, ALICE).length >= 1, 90_000, 'the answer in WhatsApp');
    expect(sentTo(lines, ALICE)).toEqual(['Andy: Hello from WhatsApp, linked from the terminal.']);
  });
});
