// The dashboard's Groups page gives a chat MCP servers, in headless Chromium against a real host: a stdio server
// package is installed and listed with exactly what runs, a remote one with its token that the page never shows,
// a bad name is refused with the reason, and Remove takes one away.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestEnv, type TestEnv } from '../support/harness.js';
import { openBrowser, type TestBrowser } from '../support/browser.js';

const ECHO_PACKAGE = path.resolve('test/fixtures/mcp-echo');
const TOKEN = 'dashboard-mcp-honeytoken-93c1f0';
let env: TestEnv;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  env = await startTestEnv({ script: () => ({ text: 'OK' }) });
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: 'local:family', name: 'Family', folder: 'family', requiresTrigger: false },
  });
  expect(res.status).toBe(201);
  browser = await openBrowser();
  page = browser.page;
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await env?.close();
});

const servers = async () =>
  ((await (await env.api(`/api/groups/${encodeURIComponent('local:family')}/mcp`)).json()) as any).servers;

test('Groups → MCP servers: add a stdio and a remote server, see what runs, remove one', async () => {
  await page.goto(`${env.host.url}/#token=${encodeURIComponent(env.host.token)}`);
  await page.click('#tabs a[data-page="groups"]');
  const card = page.locator('article.group[data-jid="local:family"]');
  await card.locator('button.mcp').click();
  await expect.poll(() => card.locator('div.mcp').textContent()).toContain('No MCP servers');

  // A name the API refuses: the reason is shown, nothing is added.
  await card.locator('input[name=mcpName]').fill('Bad Name');
  await card.locator('input[name=mcpCommand]').fill('mcp-echo');
  await card.locator('form.mcp-add button[type=submit]').click();
  await expect.poll(() => card.locator('form.mcp-add [role=alert]').textContent()).toContain('lowercase letters');
  expect(await servers()).toEqual([]);

  await card.locator('input[name=mcpName]').fill('echo');
  await card.locator('input[name=mcpPackage]').fill(ECHO_PACKAGE);
  await card.locator('input[name=mcpCommand]').fill('mcp-echo --loud');
  await card.locator('form.mcp-add button[type=submit]').click();
  const echo = card.locator('li[data-name=echo]');
  await echo.waitFor();
  expect(await echo.textContent()).toContain(`npm install ${ECHO_PACKAGE}, then run: mcp-echo --loud`);
  await expect.poll(() => page.textContent('#groups-notice')).toContain('Added the MCP server "echo" to Family');
  expect(fs.existsSync(path.join(env.home, 'groups/family/.mcp/node_modules/.bin/mcp-echo'))).toBe(true);

  await card.locator('input[name=mcpName]').fill('docs');
  await card.locator('input[name=mcpUrl]').fill('https://mcp.example.com/mcp');
  await card.locator('input[name=mcpBearer]').fill(TOKEN);
  await card.locator('form.mcp-add button[type=submit]').click();
  const docs = card.locator('li[data-name=docs]');
  await docs.waitFor();
  expect(await docs.textContent()).toContain(
    'reach https://mcp.example.com/mcp (the host adds its Authorization header)',
  );
  // The token went to the host, and the page never shows it back.
  expect(await page.content()).not.toContain(TOKEN);
  expect((await servers()).map((s: any) => s.name)).toEqual(['docs', 'echo']);

  await echo.locator('button.danger').click();
  await echo.locator('button.danger').click();
  await expect.poll(() => page.textContent('#groups-notice')).toContain('Removed the MCP server "echo" from Family');
  expect((await servers()).map((s: any) => s.name)).toEqual(['docs']);
}, 120_000);
