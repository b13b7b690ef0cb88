// `nanoclaw auth whatsapp`'s link flow (linkWhatsApp) over the fake Baileys
// socket: what stands in the way is printed as it happens, in words that say
// what to check, and a link that cannot happen ends with a clear message.
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { loadConfig } from '../../../src/core/config/config.js';
import { homePaths } from '../../../src/core/config/home.js';
import { linkWhatsApp } from '../../../src/plugins/whatsapp/plugin.js';
import { boomLike, fakeSocketFactory, type FakeSocketOptions } from '../../support/fake-baileys-socket.js';
import { makeHome, until } from '../../support/harness.js';

const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

function linking(opts: { phone?: string; codeTimeoutMs?: number } = {}, fake: FakeSocketOptions = {}) {
  const home = makeHome('nanoclaw-walink-');
  homes.push(home);
  const config = loadConfig({ NANOCLAW_HOME: home }, home);
  const factory = fakeSocketFactory(fake);
  const out = new PassThrough();
  const printed = { text: '' };
  out.on('data', (d) => (printed.text += d));
  const done = linkWhatsApp(
    { config, paths: homePaths(home), env: config.env },
    { ...opts, out, makeSocket: factory.makeSocket },
  );
  done.catch(() => {});
  return { factory, printed, done };
}

/** What Baileys reports when the WebSocket cannot even resolve WhatsApp's name. */
function dnsFailure(): Error {
  const cause = Object.assign(new Error('getaddrinfo ENOTFOUND web.whatsapp.com'), {
    code: 'ENOTFOUND',
    hostname: 'web.whatsapp.com',
  });
  return Object.assign(boomLike(408, `WebSocket Error (${cause.message})`), { data: cause });
}

test('no network: the DNS failure is printed with what to check, and the wait for a QR code ends with it', async () => {
  const t = linking({ codeTimeoutMs: 1500 });
  await until(() => t.factory.sockets.length > 0, 5_000, 'the socket');
  await t.factory.latest().end(dnsFailure());
  await until(() => t.printed.text.includes('Cannot reach'), 5_000, 'the problem');
  expect(t.printed.text).toContain(
    "! Cannot reach web.whatsapp.com (ENOTFOUND): check this machine's internet connection or DNS. Trying again in 1 s",
  );
  await expect(t.done).rejects.toThrow(
    /WhatsApp offered no QR code within 2 s \(Cannot reach web\.whatsapp\.com \(ENOTFOUND\).*\)\. Run "nanoclaw auth whatsapp" to try again\./,
  );
});

test('--phone with a number WhatsApp refuses: linking ends at once saying to check the number', async () => {
  const t = linking({ phone: '+44 7700 900123' }, { registered: false, pairingError: boomLike(400, 'bad-request') });
  await until(() => t.factory.sockets.length > 0, 5_000, 'the socket');
  // The first QR means the socket is ready; the channel asks for a pairing code instead.
  t.factory.latest().ev.emit('connection.update', { qr: '2@fake-qr' });
  await expect(t.done).rejects.toThrow(
    /WhatsApp gave no pairing code for \+44 7700 900123 \(bad-request\): check the number.*Run "nanoclaw auth whatsapp" to try again/,
  );
  expect(t.factory.latest().pairingRequests).toEqual(['447700900123']);
});
