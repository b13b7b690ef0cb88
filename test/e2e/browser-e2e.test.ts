// The agent's browser, end to end: the scripted model has the real SDK run
// agent-browser in Bash inside a real bwrap sandbox, driving this machine's
// Chromium through the gateway's egress proxy. A group whose allowlist names
// the test's page reads its nonce (the model sees it in the tool result) and
// sends a screenshot, which reaches the Telegram chat (crabline's Bot API
// server) as a photo; a group whose policy forbids the host cannot load it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTelegramChannel } from '../../src/plugins/telegram/telegram.js';
import { silentLogger } from '../../src/core/logger.js';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startCrabline, type Crabline, type Recorded } from '../support/crabline.js';
import { makeHome, startTestEnv, until, type TestEnv } from '../support/harness.js';
import { mediaStore } from '../../src/plugins/media/index.js';

const NONCE = `nonce-${crypto.randomBytes(6).toString('hex')}`;
const TG_CHAT = '-1001234567890';
const TG_JID = `tg:${TG_CHAT}`;

let env: TestEnv;
let tg: Crabline;
let page: http.Server;
let pageUrl = '';
const pageHits: string[] = [];
const home = makeHome();

/** A Bot API call of this method, as crabline recorded it. */
const api = (l: Recorded, method: string) => l.type === 'api' && !!l.path?.endsWith(`/${method}`);

const bash = (command: string) => ({
  toolUse: { name: 'Bash', input: { command, description: 'browse', timeout: 90_000 } },
});

/** BROWSE: open the page and read it; then screenshot and send it; then a final answer with what the tool said. */
function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (!isToolResultTurn(req)) {
    if (text.includes('BROWSE')) {
      return bash(
        `agent-browser open ${pageUrl} && agent-browser get text body && agent-browser screenshot; echo "exit=$?"`,
      );
    }
    return { text: 'OK' };
  }
  // agent-browser names the file it saved; the model sends that path.
  const shot = /Screenshot saved to (\/workspace\/group\/screenshots\/[\w.-]+\.png)/.exec(text);
  if (text.includes(NONCE) && shot)
    return {
      toolUse: { name: 'mcp__nanoclaw__send_message', input: { text: `The page says ${NONCE}`, file: shot[1] } },
    };
  if (/Sent, with screenshot-\d+\.png/.test(text)) return { text: 'Done.' };
  // The tool's output, for the chat: what the agent saw when the page did not load.
  return { text: `Browser said: ${text.slice(0, 600)}` };
}

beforeAll(async () => {
  page = http.createServer((req, res) => {
    pageHits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html><head><title>Test page</title></head><body><h1>The headline: ${NONCE}</h1></body></html>`);
  });
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', () => r()));
  const port = (page.address() as AddressInfo).port;
  pageUrl = `http://127.0.0.1:${port}/headline`;
  tg = await startCrabline('telegram', path.join(home, 'crabline'));
  env = await startTestEnv({
    home,
    script,
    env: { IDLE_TIMEOUT: '5000', AGENT_TIMEOUT: '180000' },
    host: {
      get channels() {
        return [
          createTelegramChannel({
            token: tg.manifest.botToken,
            apiRoot: tg.manifest.endpoints.apiRoot,
            assistantName: 'Andy',
            logger: silentLogger(),
            pollingTimeoutSeconds: 1,
            media: mediaStore(() => null),
          }),
        ];
      },
    },
  });
  const add = async (jid: string, folder: string, sandbox: Record<string, unknown>) => {
    expect(
      (await env.api('/api/groups', { method: 'POST', json: { jid, name: folder, folder, requiresTrigger: false } }))
        .status,
    ).toBe(201);
    expect(
      (await env.api(`/api/groups/${encodeURIComponent(jid)}`, { method: 'PATCH', json: { sandbox } })).status,
    ).toBe(200);
  };
  await add(TG_JID, 'web', { egress: 'allowlist', egressAllowlist: [`127.0.0.1:${port}`] });
  // "deny" rather than the default "ask": this chat forbids other sites outright instead of asking the owner.
  await add('local:closed', 'closed', {
    egress: 'allowlist',
    egressAllowlist: ['docs.example.com'],
    approvals: { policy: { network: 'deny' } },
  });
}, 60_000);

afterAll(async () => {
  await env?.close();
  await tg?.stop();
  await new Promise((r) => page?.close(r));
});

test('an allowed page: the agent reads its nonce in Chromium and sends a screenshot to the Telegram chat', async () => {
  await tg.inject({ chatId: TG_CHAT, fromId: 100001, text: '@Andy BROWSE the test page and send me a screenshot' });
  const lines = await tg.untilRecorded(
    (ls) =>
      ls.some((l) => api(l, 'sendPhoto')) &&
      ls.some((l) => api(l, 'sendMessage') && JSON.stringify(l.body).includes('Done')),
    150_000,
    'a photo and the final answer at Telegram',
  );
  // The browser plugin's runner module told the model about the browser, after the core's lines.
  const told = `sender_id).\nA web browser is available: run \`agent-browser\` in Bash (open <url>, get text body, snapshot -i, screenshot; \`agent-browser skills get core\` for more), and send a screenshot with mcp__nanoclaw__send_message and \`file\` set to the path it printed.`;
  expect(JSON.stringify(env.fake.turnRequests()[0]!.body.system)).toContain(JSON.stringify(told).slice(1, -1));
  // The model saw the page's text in the tool result of its Bash call.
  expect(env.fake.turnRequests().some((r) => isToolResultTurn(r) && lastUserText(r).includes(NONCE))).toBe(true);
  expect(pageHits).toContain('/headline');
  const photo = lines.find((l) => api(l, 'sendPhoto'))!;
  expect(photo.body.caption).toBe(`The page says ${NONCE}`);
  // The chat's history says what was sent, and the screenshot is a PNG in the group's folder.
  const dir = path.join(home, 'groups', 'web', 'screenshots');
  const [name] = fs.readdirSync(dir);
  expect(fs.readFileSync(path.join(dir, name!)).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  const history = await env.messages(TG_JID);
  expect(history.some((m) => m.fromAssistant && m.text.includes(`[file: ${name}]`))).toBe(true);
  expect(Object.values(photo.body)).toContain(name);
}, 180_000);

test('a group whose policy does not list the host cannot load it', async () => {
  const before = pageHits.length;
  await env.send('local:closed', 'BROWSE please');
  const messages = await env.untilChat('local:closed', (ms) => ms.some((m) => m.fromAssistant), 150_000, 'the reply');
  const answer = messages.find((m) => m.fromAssistant)!;
  // The browser shows the gateway's refusal instead of the page.
  expect(answer.text).toMatch(/^Browser said:/);
  expect(answer.text).toContain(`NanoClaw refused 127.0.0.1:${new URL(pageUrl).port}`);
  expect(answer.text).not.toContain(NONCE);
  expect(pageHits.length).toBe(before);
  await until(() => !env.host.agents.has('local:closed'), 30_000, 'the sandbox to close');
}, 180_000);
