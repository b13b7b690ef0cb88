// The quiet heartbeat: a chat's agent reads HEARTBEAT.md on each beat and the chat hears from it only when there is
// something worth saying. Real host, bwrap sandbox and SDK (the agent really reads the file with its Read tool); the
// fake model answers HEARTBEAT_OK unless the file it read names something due. The dashboard sets it and shows each
// beat's decision (headless Chromium).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';
import { runCli } from '../support/cli.js';
import { openBrowser } from '../support/browser.js';

let env: TestEnv;
const isBeat = (req: RecordedRequest) => req.text.includes('[Heartbeat,');

beforeAll(async () => {
  env = await startTestEnv({
    env: { IDLE_TIMEOUT: '300' },
    script: (req) => {
      if (!isBeat(req)) return { text: 'OK' };
      if (!isToolResultTurn(req))
        return { toolUse: { name: 'Read', input: { file_path: '/workspace/group/HEARTBEAT.md' } } };
      return /DENTIST/.test(lastUserText(req))
        ? { text: 'Reminder: the dentist is at 15:00 today.' }
        : { text: 'HEARTBEAT_OK' };
    },
  });
  fs.writeFileSync(path.join(env.home, 'data', 'host.json'), JSON.stringify({ url: env.host.url, pid: process.pid }));
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:home', name: 'Home', folder: 'home', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
}, 60_000);
afterAll(async () => {
  await env?.close();
});

const beats = async () =>
  ((await (await env.api('/api/heartbeats?folder=home')).json()) as { beats: any[] }).beats.reverse();
const assistantMessages = async () => (await env.messages('local:home')).filter((m) => m.fromAssistant);
/** Asks for one beat now and waits for its decision. */
async function beatOnce(): Promise<any> {
  const before = (await beats()).length;
  const res = await env.api('/api/heartbeats/home', { method: 'POST' });
  expect(res.status).toBe(202);
  await until(async () => (await beats()).length > before, 60_000, 'the beat decision');
  return (await beats())[before];
}

const nanoclaw = (args: string[]) => runCli(args, { NANOCLAW_HOME: env.home });

test('`groups set` turns the heartbeat on (30 minutes, quiet at night) and refuses a bad interval', async () => {
  const bad = await nanoclaw(['groups', 'set', 'home', 'heartbeat=2']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('heartbeat must be on, off or minutes from 5 to 1440, not "2".');
  const on = await nanoclaw(['groups', 'set', 'home', 'heartbeat=on', 'quiet=23:00-06:30']);
  expect(on.code).toBe(0);
  expect(on.stdout).toContain('heartbeat: every 30 minutes, quiet 23:00-06:30');
});

test('a chat without HEARTBEAT.md is skipped without a model call, and status says how to start', async () => {
  const calls = env.fake.requests.length;
  const beat = await beatOnce();
  expect(beat).toMatchObject({ decision: 'skipped' });
  expect(beat.detail).toContain('no HEARTBEAT.md in groups/home');
  expect(env.fake.requests.length).toBe(calls);
  const status = (await (await env.api('/api/status')).json()) as any;
  expect(status.heartbeats).toEqual([
    { folder: 'home', everyMinutes: 30, quiet: '23:00-06:30', last: expect.objectContaining({ decision: 'skipped' }) },
  ]);
  // `nanoclaw status` (and doctor) lists what to fix.
  expect((await nanoclaw(['status'])).stdout).toContain(
    'Chat "Home" has a heartbeat but no groups/home/HEARTBEAT.md: write there what to look at, or run ' +
      '"nanoclaw groups set home heartbeat=off".',
  );
});

test('ten beats with nothing to say send nothing; one with something to say sends exactly one message', async () => {
  const file = path.join(env.home, 'groups', 'home', 'HEARTBEAT.md');
  fs.writeFileSync(file, '# Heartbeat\nLook at todo.md; tell me only about appointments due today.\n');
  for (let i = 0; i < 10; i++) expect(await beatOnce()).toMatchObject({ decision: 'quiet', detail: '' });
  // Each beat ran an agent that read the file, and the chat heard nothing.
  const read = env.fake.requests.filter((r) => isBeat(r) && isToolResultTurn(r));
  expect(read).toHaveLength(10);
  expect(lastUserText(read[9])).toContain('tell me only about appointments due today');
  expect(await assistantMessages()).toHaveLength(0);
  expect(((await (await env.api('/api/status')).json()) as any).problems.join('\n')).not.toContain('HEARTBEAT.md');

  fs.appendFileSync(file, 'Today: DENTIST at 15:00.\n');
  expect(await beatOnce()).toMatchObject({ decision: 'said', detail: 'Reminder: the dentist is at 15:00 today.' });
  const said = await env.waitForReply('local:home');
  expect(said.map((m) => m.text)).toEqual(['Reminder: the dentist is at 15:00 today.']);
  // Each beat is a fresh session: none resumes another, and the chat's own session is untouched.
  expect(env.host.store.groups.session('home') ?? null).toBeNull();
}, 180_000);

test("the dashboard shows each beat's decision, and its Groups page sets a chat's heartbeat", async () => {
  const browser = await openBrowser();
  try {
    const { page } = browser;
    await page.goto(`${env.host.url}/#token=${encodeURIComponent(env.host.token)}`);
    await page.click('#tabs a[data-page="tasks"]');
    await page.locator('#heartbeats table.beats tbody tr').first().waitFor();
    const decisions = await page.$$eval('#heartbeats tbody tr', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.decision),
    );
    expect(decisions).toEqual(['said', ...Array(10).fill('quiet'), 'skipped']);
    expect(await page.textContent('#heartbeats tbody tr[data-decision="said"]')).toContain(
      'Reminder: the dentist is at 15:00 today.',
    );

    await page.click('#tabs a[data-page="groups"]');
    const card = page.locator('article.group[data-jid="local:home"]');
    expect(await card.textContent()).toContain('heartbeat every 30 min');
    await card.locator('button.settings').click();
    await card.locator('input[name=heartbeatMinutes]').fill('45');
    await card.locator('input[name=heartbeatQuiet]').fill('25:00-07:00');
    await card.locator('form.settings button[type=submit]').click();
    expect(await card.locator('[role=alert]').textContent()).toContain(
      'heartbeatQuiet must be hours such as 22:00-07:00',
    );
    await card.locator('input[name=heartbeatQuiet]').fill('22:30-06:00');
    await card.locator('form.settings button[type=submit]').click();
    await expect.poll(() => page.textContent('#groups-notice')).toContain('Saved settings for Home');
    const groups = ((await (await env.api('/api/groups')).json()) as any).groups;
    expect(groups.find((g: any) => g.folder === 'home').sandbox).toMatchObject({
      heartbeatMinutes: 45,
      heartbeatQuiet: '22:30-06:00',
    });
  } finally {
    await browser.close();
  }
}, 60_000);
