// A model per chat: a chat set to a model and effort is answered by that model at that effort, another chat by the
// host's default; a model the upstream refuses is told in the chat once, with the fix, and in doctor; `groups set`
// refuses a bad effort with the accepted values; the usage API and page count tokens per model; the Groups page sets
// both. Real host, bwrap sandbox, SDK and Chromium; the fake Anthropic API serves the models a test names and refuses
// others as the real one does.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestEnv, TEST_KEY, type TestEnv } from '../support/harness.js';
import { runCli } from '../support/cli.js';
import { openBrowser, type TestBrowser } from '../support/browser.js';

const HOST_MODEL = 'claude-host-default-1';
const FAMILY_MODEL = 'claude-family-2';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv({
    env: { IDLE_TIMEOUT: '300', NANOCLAW_MAX_RETRIES: '3', NANOCLAW_MODEL: HOST_MODEL },
  });
  fs.writeFileSync(path.join(env.home, 'data', 'host.json'), JSON.stringify({ url: env.host.url, pid: process.pid }));
}, 60_000);
afterAll(async () => {
  await env?.close();
});

const register = async (folder: string, sandbox: object = {}) => {
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: `local:${folder}`, name: folder, folder, requiresTrigger: false, sandbox },
  });
  expect(res.status, await res.clone().text()).toBe(201);
};
/** The model requests after the first `from` requests. */
const modelRequests = (from: number) => env.fake.requests.slice(from).filter((r) => r.path.endsWith('/v1/messages'));
const assistantTexts = async (jid: string) =>
  (await env.messages(jid)).filter((m) => m.fromAssistant).map((m) => String(m.text));
const sandboxOf = async (folder: string) =>
  ((await (await env.api('/api/groups')).json()) as any).groups.find((g: any) => g.folder === folder).sandbox;

/** Runs the built `nanoclaw` command against this host. */
const nanoclaw = (args: string[]) =>
  runCli(args, {
    ...{ NANOCLAW_HOME: env.home, NANOCLAW_CONFIG_DIR: path.join(env.home, '.config-nanoclaw') },
    ...{ NANOCLAW_RUNTIME: 'bwrap', ANTHROPIC_API_KEY: TEST_KEY, ANTHROPIC_BASE_URL: env.fake.url },
  });

describe('a model per chat', () => {
  test('a chat set to a model and effort is answered by them; another chat by the host default', async () => {
    await register('family', { model: FAMILY_MODEL, effort: 'low' });
    await register('work');
    let from = env.fake.requests.length;
    await env.send('local:family', 'hello family');
    await env.waitForReply('local:family');
    const family = modelRequests(from);
    expect(family.length).toBeGreaterThan(0);
    expect(family.map((r) => r.body.model)).toEqual(family.map(() => FAMILY_MODEL));
    expect(family.map((r) => r.body.output_config?.effort)).toEqual(family.map(() => 'low'));

    from = env.fake.requests.length;
    await env.send('local:work', 'hello work');
    await env.waitForReply('local:work');
    const work = modelRequests(from);
    expect(work.length).toBeGreaterThan(0);
    expect(work.map((r) => r.body.model)).toEqual(work.map(() => HOST_MODEL));
    expect(work.map((r) => r.body.output_config?.effort)).not.toContain('low');
  }, 120_000);

  test('the usage API counts tokens per model', async () => {
    const usage = (await (await env.api('/api/usage')).json()) as any;
    const row = (model: string) => usage.byModel.find((r: any) => r.model === model);
    // The fake answers each call with 10 input and 5 output tokens.
    const calls = (model: string) => env.fake.models().filter((m) => m === model).length;
    expect(row(FAMILY_MODEL)).toMatchObject({
      inputTokens: 10 * calls(FAMILY_MODEL),
      outputTokens: 5 * calls(FAMILY_MODEL),
    });
    expect(row(HOST_MODEL)).toMatchObject({ inputTokens: 10 * calls(HOST_MODEL), outputTokens: 5 * calls(HOST_MODEL) });
    expect(row(FAMILY_MODEL).costUsd).toBeGreaterThan(0);
  });

  test('`groups set` refuses a bad effort with the accepted values, and changes nothing', async () => {
    const bad = await nanoclaw(['groups', 'set', 'family', 'effort=extreme']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Not changed: effort must be low, medium or high, not "extreme".');
    expect(bad.stderr).toContain('Usage: nanoclaw groups set');
    expect(await sandboxOf('family')).toMatchObject({ model: FAMILY_MODEL, effort: 'low' });
    // The API refuses it as well, in the same words.
    const res = await env.api('/api/groups/local%3Afamily', { method: 'PATCH', json: { sandbox: { effort: 'max!' } } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toContain('effort must be low, medium or high');

    const set = await nanoclaw(['groups', 'set', 'family', 'effort=high']);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain(`model: ${FAMILY_MODEL}\neffort: high\n`);
    expect(await sandboxOf('family')).toMatchObject({ model: FAMILY_MODEL, effort: 'high' });
  });

  test('a model the upstream refuses is told in the chat once, with the fix, and in doctor, until it is fixed', async () => {
    env.fake.serveModels([HOST_MODEL, FAMILY_MODEL]);
    await register('typo', { model: 'claude-nope-9' });
    await env.send('local:typo', 'hello?');
    const [told] = await env.waitForReply('local:typo');
    expect(told.text).toContain('refused the model "claude-nope-9" (model: claude-nope-9)');
    expect(told.text).toContain('nanoclaw groups set typo model=');

    const doctor = await nanoclaw(['doctor']);
    expect(doctor.stdout).toMatch(/! Running\s+yes/);
    expect(doctor.stdout).toContain('Chat "typo" (groups/typo): the model API refused the model "claude-nope-9"');

    // Asking again before it is fixed is told again, at once, without a call to the upstream.
    let from = env.fake.requests.length;
    await env.send('local:typo', 'still there?');
    await env.waitForReply('local:typo', { count: 2 });
    expect(modelRequests(from)).toHaveLength(0);

    const fixed = await nanoclaw(['groups', 'set', 'typo', 'model=default']);
    expect(fixed.stdout).toContain("model: default (the host's)");
    from = env.fake.requests.length;
    await env.send('local:typo', 'and now?');
    const replies = await env.waitForReply('local:typo', { count: 3 });
    expect(replies[2].text).toBe('OK');
    expect(modelRequests(from).map((r) => r.body.model)).toContain(HOST_MODEL);
    // Each refused message was told once.
    expect((await assistantTexts('local:typo')).filter((t) => t.includes('claude-nope-9'))).toHaveLength(2);
    const status = (await (await env.api('/api/status')).json()) as any;
    expect(status.problems.join('\n')).not.toContain('claude-nope-9');
  }, 120_000);
});

describe('the dashboard', () => {
  let browser: TestBrowser;
  beforeAll(async () => {
    browser = await openBrowser({ viewport: { width: 1200, height: 860 } });
  });
  afterAll(async () => {
    await browser?.close();
  });

  test("the Groups page sets a chat's model and effort; the Usage page shows tokens per model", async () => {
    const { page } = browser;
    await page.goto(`${env.host.url}/#token=${encodeURIComponent(env.host.token)}`);
    await page.click('#tabs a[data-page="groups"]');
    const card = page.locator('article.group[data-jid="local:work"]');
    await card.locator('button.settings').click();
    await card.locator('input[name=model]').fill('claude-work-3');
    await card.locator('select[name=effort]').selectOption('medium');
    await card.locator('form.settings button[type=submit]').click();
    await expect.poll(() => page.textContent('#groups-notice')).toContain('Saved settings for work');
    expect(await sandboxOf('work')).toMatchObject({ model: 'claude-work-3', effort: 'medium' });
    await expect
      .poll(() => page.locator('article.group[data-jid="local:work"]').textContent())
      .toContain('model: claude-work-3 (medium effort)');

    await page.click('#tabs a[data-page="usage"]');
    const family = page.locator(`#usage table.per-model tr[data-model="${FAMILY_MODEL}"]`);
    await family.waitFor();
    const calls = env.fake.models().filter((m) => m === FAMILY_MODEL).length;
    expect(await family.locator('td').nth(1).textContent()).toBe(String(10 * calls));
    await page.locator(`#usage table.per-model tr[data-model="${HOST_MODEL}"]`).waitFor();
  }, 60_000);
});
