// The dashboard's live view in headless Chromium against a real host (bwrap sandbox, real SDK, fake model):
// while a turn runs the chat shows that the assistant works and each tool call as it starts; a model API that
// does not answer shows as delayed; Stop ends the turn (the chat is told, no answer follows, the next message is
// answered once); the Logs page shows each finished turn as it is written, by chat, with no secret. Screenshots
// go to test-artifacts/.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { isToolResultTurn, lastUserText } from '../support/fake-anthropic.js';
import { makeHome, startTestEnv, TEST_KEY, type TestEnv } from '../support/harness.js';
import { openBrowser, type TestBrowser } from '../support/browser.js';

const ARTIFACTS = path.resolve('test-artifacts');
const MARKER = 'echo live-tool-marker';

let env: TestEnv;
let browser: TestBrowser;
let page: Page;
// The fake model holds its answer after the tool call until the test has seen the tool line.
let release: () => void = () => {};
let held: Promise<void> = Promise.resolve();

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function openTab(name: string): Promise<void> {
  await page.click(`#tabs a[data-page="${name}"]`);
  await page.waitForSelector(`#page-${name}`);
}

async function send(text: string): Promise<void> {
  await page.fill('#chat-input', text);
  await page.press('#chat-input', 'Enter');
  await page.waitForSelector(`li.msg.user >> text=${text}`);
}

const replies = async () => (await env.messages('local:main')).filter((m) => m.fromAssistant).map((m) => m.text);

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const home = makeHome();
  env = await startTestEnv({
    home,
    env: { NANOCLAW_MODEL_SILENCE_MS: '1500' },
    // The log file `nanoclaw logs` reads, as `nanoclaw start` writes it.
    host: { logger: createLogger({ level: 'info', logsDir: path.join(home, 'logs') }) },
    script: async (req) => {
      if (isToolResultTurn(req)) {
        await held;
        return { text: 'The tool ran.' };
      }
      const text = lastUserText(req);
      if (text.includes('use a tool'))
        return { toolUse: { name: 'Bash', input: { command: MARKER, description: 'print a marker' } } };
      if (text.includes('never answer')) return { hang: true };
      return { text: 'A plain answer.' };
    },
  });
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:other', name: 'Other', folder: 'other', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
  browser = await openBrowser({ viewport: { width: 1200, height: 860 } });
  page = browser.page;
  await page.goto(`${env.host.url}/#token=${encodeURIComponent(env.host.token)}`);
  await page.waitForSelector('#page-chat');
  await page.waitForSelector('#live.on');
}, 60_000);

afterAll(async () => {
  release();
  await browser?.close();
  await env?.close();
});

test('while a turn runs the chat shows the assistant at work and each tool call as it starts', async () => {
  held = new Promise((r) => (release = r));
  await send('please use a tool');
  const tool = await page.waitForSelector('#messages li.tool:has-text("Bash")', { timeout: 90_000 });
  expect(await tool.textContent()).toContain(MARKER);
  // The model has not answered yet: the page says the assistant is at work, with the tool it uses.
  expect(await page.isVisible('#working')).toBe(true);
  expect(await page.textContent('#working .working-text')).toMatch(/is using Bash/);
  expect(await page.isVisible('#chat-stop')).toBe(true);
  expect(await replies()).toEqual([]);
  await shot('live-chat');
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await shot('phone-live-chat');
  await page.setViewportSize({ width: 1200, height: 860 });
  // A page opened (here reloaded, its files answered "not modified") mid-turn shows the assistant at work too.
  await page.reload();
  await page.waitForSelector('#working', { state: 'visible' });

  release();
  await page.waitForSelector('li.msg.assistant >> text=The tool ran.', { timeout: 90_000 });
  await page.waitForSelector('#working', { state: 'hidden' });
});

test('a model API that does not answer shows as delayed, and Stop ends the turn: no answer follows it', async () => {
  await send('never answer this one');
  const delayed = await page.waitForSelector('#working.delayed', { timeout: 90_000 });
  expect(await delayed.textContent()).toContain('Delayed: the model API is not answering at http://127.0.0.1:');
  await shot('live-chat-delayed');

  await page.click('#chat-stop');
  await page.waitForSelector('li.msg.assistant >> text=/Stopped: you stopped this answer/', { timeout: 30_000 });
  expect((await replies()).filter((t) => /stopped/i.test(t))).toEqual([
    'Stopped: you stopped this answer from the dashboard. Send a new message to go on.',
  ]);
  await page.waitForSelector('#working', { state: 'hidden' });
  await shot('live-chat-stopped');
  // A stop is not a failure: status names no error for it.
  await env.host.queue.idle();
  expect(JSON.stringify(env.host.status().lastError ?? null)).not.toContain('Stopped');

  // The next message is answered once, and the stopped one is not asked again.
  const before = (await replies()).length;
  await send('and now a normal question');
  await page.waitForSelector('li.msg.assistant >> text=A plain answer.', { timeout: 90_000 });
  await env.host.queue.idle();
  const after = (await replies()).slice(before);
  expect(after).toEqual(['A plain answer.']);
  const asked = lastUserText(env.fake.turnRequests().at(-1)!);
  expect(asked).toContain('and now a normal question');
  expect(asked).not.toContain('never answer this one');
  expect(await page.locator('li.msg.assistant >> text=A plain answer.').count()).toBe(1);
});

test('Stop with nothing at work says so', async () => {
  const res = await env.api(`/api/chats/${encodeURIComponent('local:main')}/stop`, { method: 'POST', json: {} });
  expect(res.status).toBe(409);
  expect(((await res.json()) as { error: string }).error).toContain('Nothing to stop');
});

test('the Logs page shows each finished turn as it is written, by chat, and never a secret', async () => {
  // A line from before the key was registered as secret, written by an older version.
  fs.appendFileSync(
    path.join(env.home, 'logs', 'nanoclaw.log'),
    JSON.stringify({ level: 40, time: Date.now(), msg: 'old request failed', url: `https://x/?key=${TEST_KEY}` }) +
      '\n',
  );
  await openTab('logs');
  const turns = page.locator('#log-lines li.log >> text=/turn in main \\(local:main\\)/');
  await turns.first().waitFor();
  const seen = await turns.count();
  await page.waitForSelector('#log-lines >> text=old request failed');
  const text = await page.textContent('#log-lines');
  expect(text).not.toContain(TEST_KEY);
  expect(text).toContain('[redacted');

  // A turn that finishes now appears without reloading.
  await env.send('local:main', 'one more for the log');
  await expect.poll(() => turns.count(), { timeout: 90_000 }).toBeGreaterThan(seen);
  expect(await turns.last().textContent()).toMatch(/message, [\d.]+s, .*tokens: answered/);
  await shot('live-logs');

  await page.selectOption('#logs-chat', 'local:other');
  await expect.poll(() => turns.count()).toBe(0);
  await page.selectOption('#logs-chat', 'local:main');
  await expect.poll(() => turns.count()).toBeGreaterThan(seen);

  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await shot('phone-live-logs');
});
