// Approvals answered with Telegram's inline buttons, end to end: real host,
// real bwrap sandbox, real Agent SDK (its canUseTool hook answered by the
// gateway), fake model, and the fake Bot API server as the owner's phone. The
// main chat is a Telegram group; only the owner's tap (by Telegram user id)
// decides, once.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { telegramOwner } from '../../src/plugins/telegram/plugin.js';
import { createTelegramChannel } from '../../src/plugins/telegram/telegram.js';
import { silentLogger } from '../../src/core/logger.js';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import {
  ALICE,
  BOB,
  groupChat,
  startFakeTelegram,
  type FakeTelegram,
  type SentMessage,
} from '../support/fake-telegram.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

/** The owner's main chat: a Telegram group Alice (the owner) and Bob (a member) are both in. */
const HOUSEHOLD = groupChat('Household', -1009876543210);
const MAIN_JID = `tg:${HOUSEHOLD.id}`;

let env: TestEnv;
let tg: FakeTelegram;

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: `Tool said: ${text}` };
  const rm = /RM_(\w+)/.exec(text);
  if (rm)
    return {
      toolUse: {
        name: 'Bash',
        input: { command: `rm /workspace/group/victim-${rm[1]}.txt`, description: `clean up victim ${rm[1]}` },
      },
    };
  return { text: 'OK' };
}

const victim = (name: string) => path.join(env.home, 'groups', 'family', `victim-${name}.txt`);
const replies = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => m.text as string);

/** The approval request the main chat got on Telegram that mentions `needle`. */
async function requestOnTelegram(needle: string): Promise<SentMessage> {
  const find = () =>
    tg.sent.find((m) => m.chatId === HOUSEHOLD.id && m.text.startsWith('Approval needed') && m.text.includes(needle));
  await until(() => !!find(), 60_000, `an approval request about ${needle} in the Telegram main chat`);
  return find()!;
}

/** Taps a button and waits for the bot's answer to that tap. */
async function tap(who: typeof ALICE, message: SentMessage, data: string): Promise<string | undefined> {
  const id = tg.tap(who, message, data, HOUSEHOLD);
  await until(() => tg.callbackAnswers.some((a) => a.queryId === id), 30_000, `the answer to ${who.first_name}'s tap`);
  return tg.callbackAnswers.find((a) => a.queryId === id)!.text;
}

beforeAll(async () => {
  tg = await startFakeTelegram();
  const settings = { token: tg.token, apiRoot: tg.apiRoot, ownerId: String(ALICE.id) };
  env = await startTestEnv({
    script,
    env: { NANOCLAW_APPROVAL_TIMEOUT_MS: '120000' },
    host: {
      get channels() {
        return [
          createTelegramChannel({
            token: tg.token,
            apiRoot: tg.apiRoot,
            assistantName: 'Andy',
            logger: silentLogger(),
            pollingTimeoutSeconds: 1,
            // The plugin's own owner rule (TELEGRAM_OWNER_ID here), over the host's store.
            isOwner: (id) => !!env && telegramOwner(settings, env.host.store)(id),
          }),
        ];
      },
    },
  });
  env.host.store.groups.insert({
    jid: MAIN_JID,
    name: 'Household',
    folder: 'household',
    trigger: '@Andy',
    requiresTrigger: false,
    isMain: true,
    sandbox: {},
    addedAt: new Date().toISOString(),
  });
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: {
      jid: 'local:family',
      name: 'Family',
      folder: 'family',
      requiresTrigger: false,
      sandbox: { approvals: { policy: { bash: 'ask' }, bashPatterns: ['rm'] } },
    },
  });
  expect(res.status).toBe(201);
}, 60_000);
afterAll(async () => {
  await env?.close();
  await tg?.close();
});

test("Yes, once / Always / No under the request: a member's tap decides nothing, the owner's runs exactly that command once", async () => {
  fs.writeFileSync(victim('one'), 'keep me');
  fs.writeFileSync(victim('other'), 'keep me too');
  await env.send('local:family', 'please RM_one');
  const ask = await requestOnTelegram('victim-one');
  const [req] = env.host.store.approvals.pending();
  expect(req).toMatchObject({ kind: 'bash', detail: 'rm /workspace/group/victim-one.txt', status: 'pending' });

  // The typed-code instructions stay; the buttons are bound to this request, not to its code alone.
  expect(ask.text).toContain(`Answer "yes ${req.code}"`);
  const buttons = ask.replyMarkup!.inline_keyboard.flat();
  expect(buttons.map((b) => b.text)).toEqual(['Yes, once', 'Always', 'No']);
  expect(buttons.map((b) => b.callback_data)).toEqual([`ap:${req.id}:yes`, `ap:${req.id}:always`, `ap:${req.id}:no`]);
  for (const b of buttons) expect(Buffer.byteLength(b.callback_data!, 'utf8')).toBeLessThanOrEqual(64);

  // Bob is in the main chat and taps "Yes, once": refused, nothing decided, the buttons stay.
  expect(await tap(BOB, ask, `ap:${req.id}:yes`)).toBe('Only the owner can answer this.');
  expect(env.host.store.approvals.get(req.id)!.status).toBe('pending');
  expect(fs.existsSync(victim('one'))).toBe(true);
  expect(ask.replyMarkup).toBeDefined();
  expect(tg.callsTo('editMessageReplyMarkup')).toHaveLength(0);

  // The owner's "Yes, once": exactly that command runs, the keyboard goes, and the message says how it ended.
  expect(await tap(ALICE, ask, `ap:${req.id}:yes`)).toBe(`Approved ${req.code}, this once.`);
  await env.untilChat(
    'local:family',
    (m) => replies(m).some((t) => t.startsWith('Tool said:')),
    90_000,
    "the agent's tool result",
  );
  expect(fs.existsSync(victim('one'))).toBe(false);
  expect(fs.existsSync(victim('other'))).toBe(true);
  expect(env.host.store.approvals.get(req.id)).toMatchObject({
    status: 'approved',
    decidedBy: `owner in ${MAIN_JID} (tg:${ALICE.id}, button)`,
  });
  await until(() => ask.text.endsWith(`Approved ${req.code}, this once.`), 10_000, 'the outcome added to the request');
  expect(ask.replyMarkup).toBeUndefined();
  expect(tg.callsTo('editMessageReplyMarkup').filter((c) => c.ok)).toHaveLength(1);

  // A second tap (even a different answer) is told it was answered, and changes nothing.
  expect(await tap(ALICE, ask, `ap:${req.id}:no`)).toBe(
    `Already answered: approved by owner in ${MAIN_JID} (tg:${ALICE.id}, button).`,
  );
  expect(env.host.store.approvals.get(req.id)!.status).toBe('approved');
  expect(tg.callsTo('editMessageReplyMarkup')).toHaveLength(1);
  expect(env.host.store.approvals.history().filter((r) => r.detail.includes('victim-one'))).toHaveLength(1);
}, 150_000);
