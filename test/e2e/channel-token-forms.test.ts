// The dashboard's setup form for Discord, Slack and Signal: each checks what is
// typed against the platform (crabline's provider servers here) the way
// `nanoclaw auth <name>` does, saves only what passed, and says what is wrong.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { discordPlugin } from '../../src/plugins/discord/plugin.js';
import { signalPlugin } from '../../src/plugins/signal/plugin.js';
import { slackPlugin } from '../../src/plugins/slack/plugin.js';
import { loadConfig } from '../../src/core/config/config.js';
import { homePaths } from '../../src/core/config/home.js';
import { channelsApi } from '../../src/plugins/dashboard/channels-api.js';
import { errorResponse } from '../../src/core/api/errors.js';
import { startCrabline, startCrablineSlack, type Crabline } from '../support/crabline.js';
import { makeHome } from '../support/harness.js';

let home: string;
let discord: Crabline;
let slack: Crabline;
let signal: Crabline;
const saved: Record<string, string | null>[] = [];
let call: (name: string, values: Record<string, string>) => Promise<{ status: number; body: any }>;

beforeAll(async () => {
  home = makeHome('nanoclaw-token-forms-');
  [discord, slack, signal] = await Promise.all([
    startCrabline('discord', path.join(home, '.crabline')),
    startCrablineSlack(path.join(home, '.crabline-slack'), { eventsUrl: 'http://127.0.0.1:9/slack/events' }),
    startCrabline('signal', path.join(home, '.crabline-signal')),
  ]);
  const config = loadConfig(
    {
      NANOCLAW_HOME: home,
      DISCORD_API_URL: discord.manifest.endpoints.apiRoot,
      SLACK_API_URL: slack.manifest.endpoints.apiRoot,
    },
    home,
  );
  const app = channelsApi({
    plugins: [discordPlugin, slackPlugin, signalPlugin],
    env: () => ({ config, paths: homePaths(home), env: config.env }),
    saveEnv: (values) => {
      saved.push(values);
      return `${home}/.env`;
    },
    running: () => [],
  });
  app.onError(errorResponse);
  call = async (name, values) => {
    const res = await app.request(`/api/channels/${name}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ values }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
});

afterAll(async () => {
  await Promise.all([discord?.stop(), slack?.stop(), signal?.stop()]);
  fs.rmSync(home, { recursive: true, force: true });
});

test('Discord: a token the API refuses is not saved; the real one is, with the bot named', async () => {
  saved.length = 0;
  const refused = await call('discord', { DISCORD_BOT_TOKEN: 'MTIzNDU2Nzg5MDEyMzQ1Njc4.wrong.token' });
  expect(refused.status).toBe(400);
  expect(refused.body.error).toMatch(/refused/i);
  expect(saved).toEqual([]);
  const ok = await call('discord', { DISCORD_BOT_TOKEN: discord.manifest.botToken });
  expect(ok.status).toBe(200);
  expect(ok.body.message).toMatch(/Discord bot token saved.*Restart NanoClaw/);
  expect(saved).toEqual([{ DISCORD_BOT_TOKEN: discord.manifest.botToken }]);
});

test('Slack: both tokens are asked for; a bot token Slack refuses is not saved', async () => {
  saved.length = 0;
  const missing = await call('slack', { SLACK_BOT_TOKEN: slack.manifest.botToken });
  expect(missing.status).toBe(400);
  expect(missing.body.error).toContain('App-level token');
  const refused = await call('slack', { SLACK_BOT_TOKEN: 'xoxb-0000-wrong', SLACK_APP_TOKEN: 'xapp-1-A0-0-abc' });
  expect(refused.status).toBe(400);
  expect(saved).toEqual([]);
  const ok = await call('slack', { SLACK_BOT_TOKEN: slack.manifest.botToken, SLACK_APP_TOKEN: 'xapp-1-A0-0-abc' });
  expect(ok.status).toBe(200);
  expect(ok.body.message).toMatch(/Slack tokens saved: this is @/);
  expect(saved).toEqual([{ SLACK_BOT_TOKEN: slack.manifest.botToken, SLACK_APP_TOKEN: 'xapp-1-A0-0-abc' }]);
});

test('Signal: no daemon at the address, or not a phone number, is refused; the served account is saved', async () => {
  saved.length = 0;
  const url = signal.manifest.baseUrl;
  const down = await call('signal', { SIGNAL_CLI_URL: 'http://127.0.0.1:9', SIGNAL_ACCOUNT: signal.manifest.account });
  expect(down.status).toBe(400);
  expect(down.body.error).toContain('daemon --http');
  const notNumber = await call('signal', { SIGNAL_CLI_URL: url, SIGNAL_ACCOUNT: 'alice' });
  expect(notNumber.body.error).toContain('not a phone number');
  expect(saved).toEqual([]);
  const ok = await call('signal', { SIGNAL_CLI_URL: url, SIGNAL_ACCOUNT: signal.manifest.account });
  expect(ok.status).toBe(200);
  expect(ok.body.message).toMatch(/Signal saved/);
  expect(saved).toEqual([{ SIGNAL_CLI_URL: url, SIGNAL_ACCOUNT: signal.manifest.account }]);
});
