// What is not configured is not loaded: a host started with only the local chat answers in it without loading any
// chat app's library, speech runtime, browser support or mail client; one with Telegram configured (against
// crabline's Bot API server on 127.0.0.1) loads grammY and still none of the others. The host runs as its own
// process with a preload that records every file it loads (test/support/record-modules.ts).
import fs from 'node:fs';
import path from 'node:path';
import { BufferJSON, initAuthCreds } from 'baileys';
import { afterAll, expect, test } from 'vitest';
import { projectRoot } from '../../src/core/config/project-root.js';
import { startCrabline, type Crabline } from '../support/crabline.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { makeHome, TEST_KEY, until } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';

/** Packages an idle host must not carry unless their feature is configured or in use. */
const HEAVY = {
  telegram: ['grammy', '@grammyjs/auto-retry', '@grammyjs/transformer-throttler'],
  whatsapp: ['baileys', 'qrcode-terminal'],
  discord: ['discord.js'],
  slack: ['@slack/bolt', '@slack/web-api', '@slack/socket-mode'],
  signal: ['eventsource-parser'],
  speech: ['onnxruntime-node', 'sherpa-onnx-node', 'llama-tokenizer-js', 'ogg-opus-decoder', 'tar'],
  browser: ['agent-browser', 'playwright-core'],
  mail: ['imapflow', 'nodemailer', 'mailparser'],
  agent: ['@anthropic-ai/claude-agent-sdk', '@modelcontextprotocol/sdk'],
};

const preload = path.join(projectRoot(), 'dist/test/support/record-modules.js');
const dir = makeHome('nanoclaw-idle-weight-');
const fake = await startFakeAnthropic(() => ({ text: 'Hello from the fake model' }));
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts a host recording what it loads; `stop()` ends it (SIGTERM, as a person would) and answers the packages. */
async function recordedHost(name: string, env: Record<string, string>) {
  const home = path.join(dir, name);
  fs.mkdirSync(home, { recursive: true });
  const record = path.join(dir, `${name}.loaded`);
  const host: HostProcess = await startHostProcess(home, {
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: fake.url,
    NANOCLAW_RUNTIME: 'bwrap',
    NANOCLAW_CONFIG_DIR: path.join(home, '.cfg'),
    NODE_OPTIONS: `--import ${preload}`,
    RECORD_MODULES_TO: record,
    ...env,
  });
  stops.push(() => host.kill());
  return {
    host,
    async stop(): Promise<Set<string>> {
      // Stopped as a service manager stops it: it is gone in seconds, whatever a library still waits for.
      host.child.kill('SIGTERM');
      const { child } = host;
      await until(() => child.exitCode !== null || child.signalCode !== null, 15_000, 'NanoClaw to exit after SIGTERM');
      const names = fs
        .readFileSync(record, 'utf8')
        .split('\n')
        .map((line) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line)?.[1])
        .filter((n): n is string => !!n);
      return new Set(names);
    },
    /** Every file it loaded, one path or file: URL each (read after stop()). */
    files: () => fs.readFileSync(record, 'utf8').split('\n'),
  };
}

const channelsUp = async (host: HostProcess) =>
  ((await (await host.api('/api/status')).json()) as { channels: { name: string; connected: boolean }[] }).channels
    .filter((c) => c.connected)
    .map((c) => c.name);

test('with only the local chat, the host answers there and loads no chat app, speech, browser or mail library', async () => {
  const { host, stop } = await recordedHost('local', {});
  expect(await channelsUp(host)).toEqual(['local']);
  const sent = await host.api('/api/chats/local%3Amain/messages', {
    method: 'POST',
    json: { sender: 'me', senderName: 'Me', text: 'hello there' },
  });
  expect(sent.status).toBeLessThan(300);
  await until(
    async () =>
      ((await (await host.api('/api/chats/local%3Amain/messages')).json()) as any).messages.some(
        (m: any) => m.fromAssistant && /Hello from the fake model/.test(m.text),
      ),
    60_000,
    'the answer in the local chat',
  );
  const loaded = await stop();
  // The record is real: the host's own database and web server are in it.
  expect(loaded).toContain('better-sqlite3');
  expect(loaded).toContain('hono');
  expect([...loaded].filter((p) => Object.values(HEAVY).flat().includes(p))).toEqual([]);
});

test('with Telegram configured, the host loads grammY once connected, and none of the other heavy libraries', async () => {
  const tg: Crabline = await startCrabline('telegram', path.join(dir, 'crabline-telegram'));
  stops.push(() => tg.stop());
  const { host, stop } = await recordedHost('telegram', {
    TELEGRAM_BOT_TOKEN: tg.manifest.botToken,
    TELEGRAM_API_ROOT: tg.manifest.endpoints.apiRoot,
  });
  await until(async () => (await channelsUp(host)).includes('telegram'), 30_000, 'Telegram to connect');
  const loaded = await stop();
  expect(loaded).toContain('grammy');
  const others = Object.entries(HEAVY).flatMap(([what, pkgs]) => (what === 'telegram' ? [] : pkgs));
  expect([...loaded].filter((p) => others.includes(p))).toEqual([]);
});

test('with WhatsApp linked, the host connects with Baileys but leaves out its analytics event tables', async () => {
  const wa: Crabline = await startCrabline('whatsapp', path.join(dir, 'crabline-whatsapp'));
  stops.push(() => wa.stop());
  const home = path.join(dir, 'whatsapp');
  // A linked device, as `nanoclaw auth whatsapp` leaves it (crabline has no QR flow).
  const auth = path.join(home, 'store', 'auth', 'whatsapp');
  fs.mkdirSync(auth, { recursive: true, mode: 0o700 });
  const self = String(wa.manifest.selfJid).split('@')[0];
  const creds = { ...initAuthCreds(), registered: true, me: { id: `${self}:1@s.whatsapp.net`, name: 'Me' } };
  fs.writeFileSync(path.join(auth, 'creds.json'), JSON.stringify(creds, BufferJSON.replacer), { mode: 0o600 });
  const { host, stop, files } = await recordedHost('whatsapp', {
    WHATSAPP_WS_URL: wa.manifest.endpoints.baileysWebSocketUrl,
  });
  await until(async () => (await channelsUp(host)).includes('whatsapp'), 30_000, 'WhatsApp to connect');
  const loaded = await stop();
  expect(loaded).toContain('baileys');
  // WAM's tables (about 3 MB of heap) describe WhatsApp's telemetry events, which NanoClaw never sends.
  expect(files().filter((f) => f.includes('/baileys/lib/WAM/'))).toEqual([
    expect.stringMatching(/\/baileys\/lib\/WAM\/BinaryInfo\.js$/),
  ]);
  const others = Object.entries(HEAVY).flatMap(([what, pkgs]) => (what === 'whatsapp' ? [] : pkgs));
  expect([...loaded].filter((p) => others.includes(p))).toEqual([]);
});
