// Signal: accepted by the provider server → reply recorded by it, against
// crabline's signal-cli compatible server, with the real Signal channel, the
// real host and sandbox, and the fake model answering at once. Both ends are
// the server's own recorder timestamps, so the figure is what a Signal user waits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/core/config/config.js';
import { startHost } from '../src/host.js';
import { silentLogger } from '../src/core/logger.js';
import { startCrabline, type Recorded } from '../test/support/crabline.js';
import type { FakeAnthropic } from '../test/support/fake-anthropic.js';

export interface SignalBenchDeps {
  fake: FakeAnthropic;
  row(area: string, metric: string, value: string, target?: string, met?: boolean): void;
  pct(xs: number[], p: number): number | undefined;
  ms(x: number): string;
  runs: number;
}

const ALICE = '+15551234567';
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const sends = (lines: Recorded[]) => lines.filter((l) => l.type === 'api' && l.body?.method === 'send' && l.accepted);

export async function benchSignal({ fake, row, pct, ms, runs }: SignalBenchDeps): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-bench-signal-'));
  const crab = await startCrabline('signal', path.join(dir, 'crabline'));
  const home = path.join(dir, 'home');
  const config = loadConfig(
    {
      NANOCLAW_HOME: home,
      NANOCLAW_CONFIG_DIR: path.join(home, '.cfg'),
      ANTHROPIC_API_KEY: 'sk-bench',
      ANTHROPIC_BASE_URL: fake.url,
      NANOCLAW_RUNTIME: 'bwrap',
      NANOCLAW_HTTP_PORT: '0',
      IDLE_TIMEOUT: '600000',
      TZ: 'UTC',
      SIGNAL_CLI_URL: crab.manifest.endpoints.apiRoot,
      SIGNAL_ACCOUNT: crab.manifest.account,
      SIGNAL_OWNER: '+15557654321',
    },
    home,
  );
  const host = await startHost({ config, logger: silentLogger() });
  try {
    host.store.groups.insert({
      jid: `sig:${ALICE}`,
      name: 'Alice',
      folder: 'alice',
      trigger: '@Andy',
      requiresTrigger: false,
      isMain: false,
      sandbox: {},
      addedAt: new Date().toISOString(),
    });
    const waits: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const before = sends(crab.recorded()).length;
      await crab.inject({ sourceNumber: ALICE, sourceName: 'Alice', text: `bench ${i}` });
      const lines = await crab.untilRecorded((l) => sends(l).length > before, 120_000, 'the Signal reply');
      const accepted = lines.filter((l) => l.type === 'admin').pop()!;
      const replied = sends(lines)[before]!;
      const took = Date.parse(replied.at) - Date.parse(accepted.at);
      // The first turn starts the sandbox; the rest find it warm.
      if (i === 0) row('Signal (crabline)', 'accepted → reply recorded, cold', ms(took));
      else waits.push(took);
      // Wait out the per-chat pacing window, as a person typing would.
      await sleep(1_100);
    }
    row('Signal (crabline)', `accepted → reply recorded, warm p50 (${runs} turns)`, ms(pct(waits, 50)!));
    row('Signal (crabline)', 'accepted → reply recorded, warm p95', ms(pct(waits, 95)!));
  } finally {
    await host.stop();
    await crab.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
