// Discord, end to end: a message accepted by crabline's Discord provider server
// → the bot's reply recorded by it, p50/p95. The real discord.js client in the
// real host, the real sandbox and SDK, and the fake model answering at once.
// Both ends are timed by the provider server's own recorder clock.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/core/config/config.js';
import { registerGroup } from '../src/core/groups/registration.js';
import { startHost } from '../src/host.js';
import { silentLogger } from '../src/core/logger.js';
import type { FakeAnthropic } from '../test/support/fake-anthropic.js';
import { startCrabline, type Recorded } from '../test/support/crabline.js';

type RowFn = (area: string, metric: string, value: string, target?: string, met?: boolean) => void;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;

export async function benchDiscord(o: { fake: FakeAnthropic; runs: number; row: RowFn }): Promise<void> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-bench-discord-'));
  const crab = await startCrabline('discord', path.join(home, 'crabline'));
  const { guildId, channelId } = crab.manifest.fixture;
  const config = loadConfig(
    {
      NANOCLAW_HOME: home,
      NANOCLAW_CONFIG_DIR: path.join(home, '.cfg'),
      ANTHROPIC_API_KEY: 'sk-bench',
      ANTHROPIC_BASE_URL: o.fake.url,
      NANOCLAW_RUNTIME: 'bwrap',
      NANOCLAW_HTTP_PORT: '0',
      IDLE_TIMEOUT: '600000',
      TZ: 'UTC',
      DISCORD_BOT_TOKEN: crab.manifest.botToken,
      DISCORD_API_URL: crab.manifest.endpoints.apiRoot,
    },
    home,
  );
  const host = await startHost({ config, logger: silentLogger() });
  try {
    const res = registerGroup(
      { store: host.store, paths: host.paths, assistantName: config.assistantName },
      { jid: `dc:${channelId}`, name: 'Bench', folder: 'bench', requiresTrigger: false },
    );
    if (!res.ok) throw new Error(res.error);
    await until(() => host.channels.some((c) => c.name === 'discord' && c.isConnected()), 20_000);
    const replies = (lines: Recorded[]) =>
      lines.filter(
        (l) =>
          l.type === 'api' && l.method === 'POST' && l.path === `/api/v10/channels/${channelId}/messages` && l.accepted,
      );
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i <= o.runs; i++) {
      const before = replies(crab.recorded()).length;
      await crab.inject({
        channelId,
        guildId,
        senderId: '135000000000000012',
        senderName: 'Bench',
        content: `bench message ${i}`,
      });
      const lines = await crab.untilRecorded((ls) => replies(ls).length > before, 120_000, 'the Discord reply');
      const accepted = lines.filter((l) => l.type === 'admin' && l.body?.content === `bench message ${i}`).at(-1)!;
      const took = Date.parse(replies(lines)[before]!.at) - Date.parse(accepted.at);
      (i === 0 ? cold : warm).push(took);
    }
    o.row('channels', `Discord (crabline): accepted → reply recorded, cold agent`, ms(cold[0]!));
    o.row(
      'channels',
      `Discord (crabline): accepted → reply recorded, warm agent (p50/p95, n=${o.runs})`,
      `${ms(pct(warm, 50))} / ${ms(pct(warm, 95))}`,
    );
  } finally {
    await host.stop();
    await crab.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('bench: timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
