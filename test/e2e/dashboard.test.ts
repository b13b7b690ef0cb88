// The web dashboard in headless Chromium against a real host (bwrap sandbox,
// real SDK, fake model): sign in, chat, register a group, change its settings,
// pause a task, see activity, usage and the WhatsApp QR code; every API route
// refuses a request without the token. A screenshot of each page goes to
// test-artifacts/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Hono } from 'hono';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Channel, ChannelEvents, ChannelState } from '../../src/core/types.js';
import { startTestEnv, type TestEnv } from '../support/harness.js';
import { openBrowser, type TestBrowser } from '../support/browser.js';

const ARTIFACTS = path.resolve('test-artifacts');
const REPLY = 'Hello from the fake model';
const WA_GROUP = '120363041234567890@g.us';

let env: TestEnv;
let app: Hono;
let browser: TestBrowser;
let page: Page;
const whatsapp = linkingChannel();

/** A channel that is waiting to be linked, as WhatsApp is before its QR is scanned. */
function linkingChannel(): Channel & { report(state: ChannelState): void } {
  let events: ChannelEvents | null = null;
  return {
    name: 'whatsapp',
    sharesUserAccount: true,
    ownsJid: (jid) => jid.endsWith('@g.us') || jid.endsWith('@s.whatsapp.net'),
    async connect(ev) {
      events = ev;
      ev.onChat({ jid: WA_GROUP, name: 'Family Chat', channel: 'whatsapp', isGroup: true });
      ev.onState?.({
        connected: false,
        linking: {
          qr: '2@Yl3mQyZf0kD2q5vK7sNw1hXcRtUe,Zx9PqLmNoAbCdEfGhIjKlMnOpQrStUvWxYz0123456=,AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd=,QrStUvWxYz0123456789=',
        },
      });
    },
    async sendMessage() {
      throw new Error('WhatsApp is not linked');
    },
    isConnected: () => false,
    async disconnect() {
      events = null;
    },
    report(state) {
      events?.onState?.(state);
    },
  };
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function openTab(name: string): Promise<void> {
  await page.click(`#tabs a[data-page="${name}"]`);
  await page.waitForSelector(`#page-${name}`);
}

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  env = await startTestEnv({
    script: () => ({ text: REPLY }),
    host: {
      channels: [whatsapp],
      extendApi: (a) => {
        app = a;
      },
    },
  });
  browser = await openBrowser({ viewport: { width: 1200, height: 860 } });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await env?.close();
});

test('without the token every API route is refused', async () => {
  const routes = app.routes.filter((r) => r.path.startsWith('/api/') && r.method !== 'ALL');
  const paths = new Set(routes.map((r) => `${r.method} ${r.path}`));
  for (const expected of [
    'GET /api/status',
    'GET /api/groups',
    'POST /api/groups',
    'PATCH /api/groups/:jid',
    'DELETE /api/groups/:jid',
    'GET /api/events',
    'GET /api/errors',
    'GET /api/channels/:name/qr.svg',
    'POST /api/chats/:jid/messages',
  ]) {
    expect(paths).toContain(expected);
  }
  const fill = (p: string) =>
    p
      .replace(/:jid/g, encodeURIComponent('local:main'))
      .replace(/:id/g, 'task-1')
      .replace(/:name/g, 'whatsapp')
      .replace(/:(\w+)/g, 'x')
      .replace(/\*/g, 'x');
  for (const r of routes) {
    for (const auth of [undefined, 'Bearer wrong-token', `Bearer ${env.host.token}x`, env.host.token]) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (auth) headers.authorization = auth;
      const res = await fetch(env.host.url + fill(r.path), {
        method: r.method,
        headers,
        body: ['GET', 'HEAD'].includes(r.method) ? undefined : '{}',
      });
      expect(res.status, `${r.method} ${r.path} with ${auth ?? 'no token'}`).toBe(401);
      await res.body?.cancel();
    }
  }
  // Nothing changed behind the refusals.
  const groups = (await (await env.api('/api/groups')).json()) as { groups: { jid: string }[] };
  expect(groups.groups.map((g) => g.jid)).toEqual(['local:main']);
  // The page itself is open, but carries no data and no token.
  const html = await (await fetch(env.host.url + '/')).text();
  expect(html).toContain('NanoClaw');
  expect(html).not.toContain(env.host.token);
});

test('sign in with the token, chat, and see the reply arrive', async () => {
  await page.goto(env.host.url + '/');
  await page.fill('#token', 'not-the-token');
  await page.click('form.login button[type=submit]');
  await expect.poll(() => page.textContent('form.login [role=alert]')).toContain('refused');
  await shot('login');

  await page.fill('#token', env.host.token);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('#page-chat');
  await page.waitForSelector('#live.on');
  await page.fill('#chat-input', 'hello from the browser');
  await page.press('#chat-input', 'Enter');
  await page.waitForSelector('li.msg.user >> text=hello from the browser');
  const reply = await page.waitForSelector(`li.msg.assistant >> text=${REPLY}`, { timeout: 90_000 });
  expect(await reply.isVisible()).toBe(true);
  await shot('chat');

  // The same conversation is in the store, as every other client sees it.
  const texts = (await env.messages('local:main')).map((m) => m.text);
  expect(texts).toEqual(['hello from the browser', REPLY]);
});

test('the link printed by `nanoclaw start` signs in by itself, and sign-out forgets the token', async () => {
  await page.click('#logout');
  await page.waitForSelector('#token');
  expect(await page.evaluate(() => localStorage.getItem('nanoclaw.token'))).toBeNull();
  await page.goto(`${env.host.url}/#token=${encodeURIComponent(env.host.token)}`);
  await page.waitForSelector('#page-chat');
  expect(page.url()).not.toContain(env.host.token);
  await page.waitForSelector(`li.msg.assistant >> text=${REPLY}`);
});

test('groups: register a chat a channel has seen, change its settings, add a local chat', async () => {
  await openTab('groups');
  const known = page.locator(`article.known[data-jid="${WA_GROUP}"]`);
  await known.locator('button.register').click();
  expect(await known.locator('input[name=folder]').inputValue()).toBe('family-chat');
  await known.locator('form.register button[type=submit]').click();
  const card = page.locator(`article.group[data-jid="${WA_GROUP}"]`);
  await card.waitFor();
  expect(await card.textContent()).toContain('messages starting with @Andy');

  await card.locator('button.settings').click();
  await card.locator('select[name=egress]').selectOption('none');
  await card.locator('input[name=memoryMb]').fill('1024');
  await card.locator('form.settings button[type=submit]').click();
  await expect.poll(() => page.textContent('#groups-notice')).toContain('Saved settings for Family Chat');
  let group = ((await (await env.api('/api/groups')).json()) as any).groups.find((g: any) => g.jid === WA_GROUP);
  expect(group.sandbox).toMatchObject({ egress: 'none', memoryMb: 1024 });

  // A folder outside the mount allowlist is refused with a reason, and nothing is saved.
  const refreshed = page.locator(`article.group[data-jid="${WA_GROUP}"]`);
  await refreshed.locator('button.settings').click();
  await refreshed.locator('fieldset button.link').click();
  await refreshed.locator('input[name=hostPath]').fill(path.join(os.homedir(), '.ssh'));
  await refreshed.locator('input[name=containerPath]').fill('keys');
  await refreshed.locator('form.settings button[type=submit]').click();
  const refusal = await refreshed.locator('[role=alert]').textContent();
  expect(refusal).toMatch(/mount|allowlist/i);
  group = ((await (await env.api('/api/groups')).json()) as any).groups.find((g: any) => g.jid === WA_GROUP);
  expect(group.sandbox.extraMounts).toBeUndefined();

  await page.fill('#local-name', 'Family');
  await page.click('form.add-local button[type=submit]');
  await page.locator('article.group[data-jid="local:family"]').waitFor();
  await shot('groups');

  const jids = ((await (await env.api('/api/groups')).json()) as any).groups.map((g: any) => g.jid);
  expect(jids).toEqual(expect.arrayContaining(['local:main', WA_GROUP, 'local:family']));
});

test('tasks: a task created through the API is paused and resumed on the page', async () => {
  const probe = await env.api('/api/tasks');
  await probe.body?.cancel();
  expect(probe.status).toBe(200);
  const created = await env.api('/api/tasks', {
    method: 'POST',
    json: {
      group_folder: 'main',
      prompt: 'Remind me to water the plants',
      schedule_type: 'cron',
      schedule_value: '0 9 * * *',
    },
  });
  expect(created.status).toBe(201);
  const { task } = (await created.json()) as { task: { id: string } };

  await openTab('tasks');
  const card = page.locator(`article.task[data-id="${task.id}"]`);
  await card.waitFor();
  expect(await card.textContent()).toContain('Remind me to water the plants');
  expect(await card.textContent()).toContain('cron 0 9 * * *');
  await card.locator('button.pause').click();
  await page.locator(`article.task[data-id="${task.id}"][data-status="paused"]`).waitFor();
  const after = (await (await env.api(`/api/tasks/${task.id}`)).json()) as any;
  expect(after.task.status).toBe('paused');
  await shot('tasks');

  await page.locator(`article.task[data-id="${task.id}"] button.resume`).click();
  await page.locator(`article.task[data-id="${task.id}"][data-status="active"]`).waitFor();

  // A task that ran its once is done, not a warning: its note is not amber.
  const doneRes = await env.api('/api/tasks', {
    method: 'POST',
    json: {
      group_folder: 'main',
      prompt: 'Book the dentist',
      schedule_type: 'once',
      schedule_value: '2030-01-06T09:00',
    },
  });
  const done = ((await doneRes.json()) as any).task;
  (env.host.store as any).tasks.setStatus(done.id, 'completed', { reason: 'Ran once on 6 Jan; nothing more to do.' });
  await openTab('chat');
  await openTab('tasks');
  const doneNote = page.locator(`article.task[data-id="${done.id}"][data-status="completed"] p`, {
    hasText: 'Ran once on 6 Jan',
  });
  await doneNote.waitFor();
  const colours = await doneNote.evaluate((el) => ({
    note: getComputedStyle(el).color,
    warn: getComputedStyle(document.documentElement).getPropertyValue('--warn').trim(),
  }));
  const probeWarn = await page.evaluate((warn) => {
    const d = document.createElement('p');
    d.style.color = warn;
    document.body.append(d);
    const c = getComputedStyle(d).color;
    d.remove();
    return c;
  }, colours.warn);
  expect(colours.note).not.toBe(probeWarn);

  // Create one on the page: every 30 minutes, with a token budget.
  await page.fill('form.new-task textarea[name=prompt]', 'Check the train times');
  await page.selectOption('form.new-task select[name=schedule_type]', 'interval');
  await page.fill('form.new-task input[name=minutes]', '30');
  await page.fill('form.new-task input[name=budget_tokens]', '20000');
  await page.click('form.new-task button[type=submit]');
  const made = page.locator('article.task', { hasText: 'Check the train times' });
  await made.waitFor();
  expect(await made.textContent()).toContain('every 30m');
  const tasks = ((await (await env.api('/api/tasks')).json()) as any).tasks;
  expect(tasks.find((t: any) => t.prompt === 'Check the train times')).toMatchObject({
    scheduleType: 'interval',
    scheduleValue: '1800000',
    budgetTokens: 20000,
    status: 'active',
  });
});

test('activity shows the sandbox and the explanation a chat was given for an error', async () => {
  env.host.store.usage.recordError(
    'main',
    'local:main',
    "⚠️ I couldn't answer: the model API was unreachable. Your messages are kept.",
  );
  await openTab('activity');
  await page.waitForSelector('#summary .stat');
  expect(await page.textContent('#summary')).toContain('bwrap');
  await page.waitForSelector('#errors li.error');
  expect(await page.textContent('#errors')).toContain('the model API was unreachable');
  await shot('activity');
});

test('activity lists what was forgotten: places and counts, never the content', async () => {
  env.host.store.usage.recordError('main', 'local:main', 'note about the dashcanary612');
  const preview = await (
    await env.api('/api/forget/preview', { method: 'POST', json: { phrase: 'dashcanary612' } })
  ).json();
  const done = await env.api('/api/forget/confirm', { method: 'POST', json: { previewId: preview.preview.id } });
  expect(done.status).toBe(200);
  // Opened afresh, so the page reads the receipts now rather than at its next refresh.
  await openTab('tasks');
  await openTab('activity');
  await page.waitForSelector('#receipts li.receipt');
  const shown = await page.textContent('#receipts');
  expect(shown).toContain('notices: 1 failure notice');
  expect(shown).toContain('no match remains');
  expect(shown).not.toContain('dashcanary612');
});

test('usage shows the tokens of the turn that just ran', async () => {
  const probe = await env.api('/api/usage');
  await probe.body?.cancel();
  expect(probe.status).toBe(200);
  await openTab('usage');
  await page.waitForSelector('#usage svg.chart');
  const text = await page.textContent('#usage');
  expect(text).toContain('main');
  expect(text).not.toContain('No model calls yet');
  await shot('usage');
});

test('channels: state per channel, the WhatsApp QR code, then a pairing code', async () => {
  await openTab('channels');
  const qr = page.locator('img#qr-whatsapp');
  await qr.waitFor();
  expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  expect(await page.textContent('article.channel[data-channel="local"]')).toContain('connected');
  expect(await page.textContent('article.channel[data-channel="whatsapp"]')).toContain('waiting to be linked');
  // The QR help and the platforms not set up come from the channel plugins.
  expect(await page.textContent('article.channel[data-channel="whatsapp"]')).toContain(
    'WhatsApp → Settings → Linked devices',
  );
  expect(await page.textContent('article.channel.off[data-channel="telegram"]')).toContain('nanoclaw auth telegram');
  await shot('channels');

  whatsapp.report({ connected: false, linking: { pairingCode: 'ABCD-1234' } });
  await page.waitForSelector('#pairing-whatsapp');
  expect(await page.textContent('#pairing-whatsapp')).toBe('ABCD-1234');
});

test('every page fits a phone screen', async () => {
  // The longest unbroken strings a page shows: a waiting request's whole command and its sha256, a decided one's path.
  const approvals = (env.host.store as any).approvals;
  approvals.create({
    groupFolder: 'main',
    chatJid: 'local:main',
    kind: 'bash',
    detail: `curl -fsSL https://example.com/${'a1b2c3d4e5f6'.repeat(20)}`,
    reason: 'to read the page',
    timeoutMs: 3_600_000,
  });
  const decided = approvals.create({
    groupFolder: 'main',
    chatJid: 'local:main',
    kind: 'mount_write',
    detail: `/workspace/extra/${'deeply-nested-folder/'.repeat(6)}notes.txt`,
    reason: '',
    timeoutMs: 3_600_000,
  });
  approvals.decide(decided.id, 'approved', 'dashboard');

  await page.setViewportSize({ width: 390, height: 844 });
  const rendered: Record<string, string> = {
    chat: '#messages li',
    groups: '#registered article',
    tasks: '#task-list > *, #tasks-notice .notice',
    approvals: '#approvals-pending article.approval',
    activity: '#summary .stat',
    usage: '#usage svg.chart',
    channels: '#channels article',
    logs: '#log-lines li',
  };
  expect(Object.keys(rendered).sort()).toEqual(
    (await page.$$eval('#tabs a', (as) => as.map((a) => (a as HTMLElement).dataset.page!))).sort(),
  );
  for (const [name, selector] of Object.entries(rendered)) {
    await openTab(name);
    await page.waitForSelector(selector);
    if (name === 'approvals') await page.waitForSelector('#approvals-history tr >> text=notes.txt');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} is wider than the screen`).toBeLessThanOrEqual(0);
    await shot(`phone-${name}`);
  }

  // The tabs are one row, which scrolls within itself rather than wrapping.
  const tabs = await page.$$eval('#tabs a', (as) => as.map((a) => Math.round(a.getBoundingClientRect().top)));
  expect(new Set(tabs).size, `tab rows: ${tabs.join(', ')}`).toBe(1);
});

test('on a phone the usage chart labels do not overlap', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openTab('usage');
  await page.waitForSelector('#usage svg.chart text.axis');
  await page.waitForFunction(() => {
    const svg = document.querySelector('#usage svg.chart') as SVGSVGElement | null;
    return !!svg && Math.abs(svg.viewBox.baseVal.width - svg.getBoundingClientRect().width) < 2;
  });
  const charts = await page.$$eval('#usage svg.chart', (svgs) =>
    svgs.map((svg) =>
      [...svg.querySelectorAll('text.axis')].map((t) => {
        const r = t.getBoundingClientRect();
        return { text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      }),
    ),
  );
  expect(charts.length).toBeGreaterThan(0);
  for (const labels of charts) {
    expect(labels.filter((l) => /^\d\d-\d\d$/.test(l.text ?? '')).length).toBeGreaterThanOrEqual(2);
    for (const [i, a] of labels.entries())
      for (const b of labels.slice(i + 1)) {
        const apart = a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
        expect(apart, `"${a.text}" overlaps "${b.text}"`).toBe(true);
      }
  }
});

test("in the chat a member's message is not styled as yours, and a member named like you is marked", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openTab('chat');
  await page.waitForSelector('li.msg.user >> text=hello from the browser');
  const assistantName = ((await (await env.api('/api/status')).json()) as any).assistantName;
  for (const [senderName, text] of [
    ['You', 'member posing as you'],
    [assistantName, 'member posing as the assistant'],
  ]) {
    const res = await env.api('/api/chats/local%3Amain/messages', {
      method: 'POST',
      json: { sender: 'phone-of-sam', senderName, text },
    });
    expect(res.status).toBe(202);
    await res.body?.cancel();
  }
  const look = (li: Element) => ({
    align: getComputedStyle(li).alignSelf,
    background: getComputedStyle(li).backgroundColor,
    name: li.querySelector('.meta strong')?.textContent,
  });
  const mine = await page.locator('li.msg', { hasText: 'hello from the browser' }).evaluate(look);
  for (const [text, shown] of [
    ['member posing as you', 'You (member)'],
    ['member posing as the assistant', `${assistantName} (member)`],
  ]) {
    const theirs = page.locator('li.msg', { hasText: text });
    await theirs.waitFor();
    const style = await theirs.evaluate(look);
    expect(style.align, `${text}: aligned like yours`).not.toBe(mine.align);
    expect(style.background, `${text}: coloured like yours`).not.toBe(mine.background);
    expect(style.name).toBe(shown);
  }
  expect(mine.name).toBe('You');
  await shot('phone-chat-member');
});

test('on a phone without an emoji font: no emoji in any page, chart labels of at least 11 px', async () => {
  await page.setViewportSize({ width: 375, height: 812 });
  for (const name of ['chat', 'groups', 'tasks', 'activity', 'usage', 'channels']) {
    await openTab(name);
    await page.waitForSelector(`#page-${name}`);
    if (name === 'activity') await page.waitForSelector('#errors li.error');
    const emoji = await page.evaluate(() => document.body.innerText.match(/\p{Extended_Pictographic}/gu) ?? []);
    expect(emoji, `emoji on the ${name} page`).toEqual([]);
  }
  // The host's warning is still marked, by an icon a screen reader can name.
  await openTab('activity');
  await page.waitForSelector('#errors li.error svg.icon-warn');

  await openTab('usage');
  await page.waitForSelector('#usage svg.chart text.axis');
  // The size a person sees: the font size, times how much the SVG is scaled on the screen.
  await page.waitForFunction(() => {
    const svg = document.querySelector('#usage svg.chart') as SVGSVGElement | null;
    return !!svg && Math.abs(svg.viewBox.baseVal.width - svg.getBoundingClientRect().width) < 2;
  });
  const sizes = await page.$$eval('#usage svg.chart text.axis', (texts) =>
    texts.map((t) => {
      const svg = (t as SVGTextElement).ownerSVGElement!;
      return (parseFloat(getComputedStyle(t).fontSize) * svg.getBoundingClientRect().width) / svg.viewBox.baseVal.width;
    }),
  );
  expect(sizes.length).toBeGreaterThan(0);
  for (const px of sizes) expect(px).toBeGreaterThanOrEqual(11);
});
