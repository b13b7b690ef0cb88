// WhatsApp linked from the dashboard's Channels page is connected at once: no
// Re-check, no restart. The QR code is shown and "scanned" over the fake
// Baileys socket (crabline's WhatsApp Web server has no QR flow), which leaves
// the device linked to crabline's account, as a phone would leave it linked to
// yours. From there the host's own WhatsApp channel (the real Baileys socket)
// logs in to crabline on 127.0.0.1: the card turns green, and a message sent at
// crabline is answered there, counted at its recorder.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { localPlugin } from '../../src/core/channels/local/plugin.js';
import { dashboardLink, whatsappPlugin } from '../../src/plugins/whatsapp/plugin.js';
import { fakeSocketFactory } from '../support/fake-baileys-socket.js';
import { startCrabline, type Crabline, type Recorded } from '../support/crabline.js';
import { makeHome, startTestEnv, until, type TestEnv } from '../support/harness.js';
import { openBrowser, type TestBrowser } from '../support/browser.js';

const ALICE = '15551234567@s.whatsapp.net';
const CARD = 'article.channel[data-channel="whatsapp"]';

let wa: Crabline;
let env: TestEnv;
let browser: TestBrowser;
let page: Page;
const sockets = fakeSocketFactory({ registered: false });

/** Texts crabline accepted from the linked device for one chat, in order. */
function sentTo(lines: Recorded[], jid: string): string[] {
  return lines
    .filter((l) => l.type === 'api' && l.accepted && l.method === 'WEBSOCKET' && l.body?.key?.remoteJid === jid)
    .map((l) => String(l.body?.message?.conversation ?? l.body?.message?.extendedTextMessage?.text));
}

beforeAll(async () => {
  const home = makeHome('nanoclaw-dash-link-');
  wa = await startCrabline('whatsapp', path.join(home, '.crabline'));
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
