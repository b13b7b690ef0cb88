// Slack, end to end: a user message accepted by crabline's Slack provider server
// → the reply recorded by it, through the real Bolt receiver, host, bwrap
// sandbox and SDK, with the fake model answering at once. Both times are
// crabline's own recorder stamps, so only the path through NanoClaw is measured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/core/config/config.js';
import { registerGroup } from '../src/core/groups/registration.js';
import { startHost } from '../src/host.js';
import { silentLogger } from '../src/core/logger.js';
import type { FakeAnthropic } from '../test/support/fake-anthropic.js';
import { startCrablineSlack, type Recorded } from '../test/support/crabline.js';
import { freePort } from '../test/support/slack-files.js';

type RowFn = (area: string, metric: string, value: string, target?: string, met?: boolean) => void;

const DM = 'D0BENCH01';
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))]!;

export async function slackLatency(opts: { fake: FakeAnthropic; runs: number; row: RowFn }): Promise<void> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-bench-slack-'));
  const port = await freePort();
  const slack = await startCrablineSlack(path.join(home, 'crabline'), {
    eventsUrl: `http://127.0.0.1:${port}/slack/events`,
  });
  const config = loadConfig(
    {
      NANOCLAW_HOME: home,
      NANOCLAW_CONFIG_DIR: path.join(home, '.cfg'),
      ANTHROPIC_API_KEY: 'sk-bench',
      ANTHROPIC_BASE_URL: opts.fake.url,
      NANOCLAW_RUNTIME: 'bwrap',
      NANOCLAW_HTTP_PORT: '0',
      IDLE_TIMEOUT: '600000',
      TZ: 'UTC',
      SLACK_BOT_TOKEN: slack.manifest.botToken,
      SLACK_SIGNING_SECRET: slack.manifest.signingSecret,
      SLACK_API_URL: slack.manifest.endpoints.apiRoot,
      SLACK_EVENTS_PORT: String(port),
    },
    home,
  );
  const host = await startHost({ config, logger: silentLogger() });
  try {
    const res = registerGroup(
      { store: host.store, paths: host.paths, assistantName: 'Andy' },
      { jid: `sl:${DM}`, name: 'Bench', folder: 'bench', requiresTrigger: false },
    );
    if (!res.ok) throw new Error(res.error);
    const replies = (rows: Recorded[]) =>
      rows.filter((r) => r.path === '/api/chat.postMessage' && r.accepted && r.body?.channel === DM);
    const samples: number[] = [];
    // The first turn starts the sandbox; the rest reuse the warm agent, as a conversation does.
    for (let i = 0; i <= opts.runs; i++) {
      // Past the 1 s per-chat pacing window, so the figure is the path and not the pacing.
      await new Promise((r) => setTimeout(r, 1_100));
      const before = replies(slack.recorded()).length;
      await slack.inject({ channel: DM, user: 'U0BENCH01', text: `bench message ${i}` });
      const rows = await slack.untilRecorded((r) => replies(r).length > before, 120_000, 'the Slack reply');
      const accepted = rows.filter((r) => r.type === 'admin').at(-1)!;
      const reply = replies(rows)[before]!;
      if (i > 0) samples.push(Date.parse(reply.at) - Date.parse(accepted.at));
    }
    opts.row('channels', 'Slack: accepted by crabline → reply recorded, warm agent (p50)', `${pct(samples, 50)} ms`);
    opts.row('channels', 'Slack: accepted by crabline → reply recorded, warm agent (p95)', `${pct(samples, 95)} ms`);
  } finally {
    await host.stop();
    await slack.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
