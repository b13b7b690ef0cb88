// The idle host's weight: RSS of a real `nanoclaw start` process once start-up has settled, with no chat app
// configured (only the local chat), with Telegram and WhatsApp, and with all five chat apps, each against crabline's
// servers on 127.0.0.1 and connected before it is weighed; and how much the bare host grows over an idle minute.
// What is not configured must not be loaded, so the figure with none is the floor every install pays.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BufferJSON, initAuthCreds } from 'baileys';
import { startCrabline, startCrablineSlack, type Crabline } from '../test/support/crabline.js';
import type { FakeAnthropic } from '../test/support/fake-anthropic.js';
import { startHostProcess, type HostProcess } from '../test/support/host-process.js';
import { freePort } from '../test/support/slack-files.js';

type RowFn = (area: string, metric: string, value: string, target?: string, met?: boolean) => void;

const MB = 1024 * 1024;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** A chat app pointed at its crabline server: the settings, and anything its home needs before start. */
interface App {
  name: string;
  start(dir: string): Promise<{ server: Crabline; env: Record<string, string>; seed?(home: string): void }>;
}

const APPS: Record<string, App> = {
  telegram: {
    name: 'telegram',
    async start(dir) {
      const server = await startCrabline('telegram', dir);
      const m = server.manifest;
      return { server, env: { TELEGRAM_BOT_TOKEN: m.botToken, TELEGRAM_API_ROOT: m.endpoints.apiRoot } };
    },
  },
  whatsapp: {
    name: 'whatsapp',
    async start(dir) {
      const server = await startCrabline('whatsapp', dir);
      const self = String(server.manifest.selfJid).split('@')[0];
      // A linked device, as `nanoclaw auth whatsapp` leaves it (crabline has no QR flow).
      const seed = (home: string) => {
        const auth = path.join(home, 'store', 'auth', 'whatsapp');
        fs.mkdirSync(auth, { recursive: true, mode: 0o700 });
        const creds = { ...initAuthCreds(), registered: true, me: { id: `${self}:1@s.whatsapp.net`, name: 'Bench' } };
        fs.writeFileSync(path.join(auth, 'creds.json'), JSON.stringify(creds, BufferJSON.replacer), { mode: 0o600 });
      };
      return { server, env: { WHATSAPP_WS_URL: server.manifest.endpoints.baileysWebSocketUrl }, seed };
    },
  },
  discord: {
    name: 'discord',
    async start(dir) {
      const server = await startCrabline('discord', dir);
      const m = server.manifest;
      return { server, env: { DISCORD_BOT_TOKEN: m.botToken, DISCORD_API_URL: m.endpoints.apiRoot } };
    },
  },
  slack: {
    name: 'slack',
    async start(dir) {
      const port = await freePort();
      const server = await startCrablineSlack(dir, { eventsUrl: `http://127.0.0.1:${port}/slack/events` });
      const m = server.manifest;
      return {
        server,
        env: {
          SLACK_BOT_TOKEN: m.botToken,
          SLACK_SIGNING_SECRET: m.signingSecret,
          SLACK_API_URL: m.endpoints.apiRoot,
          SLACK_EVENTS_PORT: String(port),
        },
      };
    },
  },
  signal: {
    name: 'signal',
    async start(dir) {
      const server = await startCrabline('signal', dir);
      const m = server.manifest;
      return {
        server,
        env: { SIGNAL_CLI_URL: m.endpoints.apiRoot, SIGNAL_ACCOUNT: m.account, SIGNAL_OWNER: '+15557654321' },
      };
    },
  },
};

const rssOf = (pid: number) => {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  if (!kb) throw new Error(`bench: no VmRSS for pid ${pid}`);
  return kb * 1024;
};

/**
 * Starts a host with `apps` configured, waits until every one is connected, then lets start-up settle for
 * `settleS` seconds (V8 gives back its start-up heap on its own schedule: a minute after start-up the bare host has
 * been seen still holding 11 MB that it gave back during the next minute).
 * Answers the RSS then and, with `idleS`, the RSS after that much longer doing nothing.
 */
async function weigh(fake: FakeAnthropic, apps: App[], settleS: number, idleS = 0) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-bench-idle-'));
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  const servers: Crabline[] = [];
  let host: HostProcess | undefined;
  try {
    const env: Record<string, string> = {
      NANOCLAW_CONFIG_DIR: path.join(dir, 'cfg'),
      ANTHROPIC_API_KEY: 'sk-bench',
      ANTHROPIC_BASE_URL: fake.url,
      NANOCLAW_RUNTIME: 'bwrap',
      TZ: 'UTC',
    };
    for (const app of apps) {
      const got = await app.start(path.join(dir, app.name));
      servers.push(got.server);
      got.seed?.(home);
      Object.assign(env, got.env);
    }
    host = await startHostProcess(home, env);
    const want = apps.map((a) => a.name);
    const end = Date.now() + 60_000;
    for (;;) {
      const s = (await (await host.api('/api/status')).json()) as { channels: { name: string; connected: boolean }[] };
      const up = new Set(s.channels.filter((c) => c.connected).map((c) => c.name));
      if (want.every((n) => up.has(n))) break;
      if (Date.now() > end) throw new Error(`bench: chat apps not connected: ${want.filter((n) => !up.has(n))}`);
      await sleep(200);
    }
    await sleep(settleS * 1000);
    const settled = rssOf(host.child.pid!);
    if (!idleS) return { settled };
    await sleep(idleS * 1000);
    return { settled, later: rssOf(host.child.pid!) };
  } finally {
    await host?.kill('SIGTERM');
    for (const s of servers) await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchIdleWeight(o: { fake: FakeAnthropic; row: RowFn; quick: boolean }): Promise<void> {
  const settleS = o.quick ? 20 : 120;
  const mb = (b: number) => `${(b / MB).toFixed(0)} MB`;
  const cases: [string, App[], number][] = [
    ['no chat app (local chat only)', [], 80],
    ['Telegram + WhatsApp', [APPS.telegram, APPS.whatsapp], 110],
    ['5 chat apps (Telegram, WhatsApp, Discord, Slack, Signal)', Object.values(APPS), 0],
  ];
  for (const [label, apps, goal] of cases) {
    const idleS = apps.length === 0 && !o.quick ? 60 : 0;
    const { settled, later } = await weigh(o.fake, apps, settleS, idleS);
    o.row(
      'idle host',
      `RSS ${settleS} s after start-up, ${label}`,
      mb(settled),
      goal ? `< ${goal} MB` : '',
      goal ? settled < goal * MB : undefined,
    );
    if (later !== undefined)
      o.row(
        'idle host',
        `growth over an idle minute, ${label}`,
        `${((later - settled) / MB).toFixed(1)} MB`,
        '≈ 0 (< 2 MB)',
        later - settled < 2 * MB,
      );
  }
}
