// The Slack channel's pure parts: which receiver it builds (without touching
// the network), chat ids, text both ways, and where the bot token may be sent.
import { HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import { expect, test } from 'vitest';
import { fromSlackText, mentionsUser, splitSlackText, toMrkdwn } from '../../../src/plugins/slack/format.js';
import { isSlackDirectChat, slackChannelId } from '../../../src/plugins/slack/ids.js';
import { parseSlackTokens, slackSettings } from '../../../src/plugins/slack/plugin.js';
import { createSlackReceiver } from '../../../src/plugins/slack/receiver.js';
import { tokenMayGoTo } from '../../../src/plugins/slack/slack.js';

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => 'info' as any,
  setName() {},
};

test('Socket Mode is chosen when an app token is set, even with a signing secret; nothing connects on construction', () => {
  const r = createSlackReceiver({
    appToken: 'xapp-1-A0-123-abc',
    signingSecret: 'secret',
    eventsPort: 1,
    logger: quiet,
  });
  expect(r.mode).toBe('socket');
  expect(r.receiver).toBeInstanceOf(SocketModeReceiver);
  expect(r.startArgs).toEqual([]);
});

test('without an app token the Events API receiver listens on 127.0.0.1 only; without either, a clear error', () => {
  const r = createSlackReceiver({ signingSecret: 'secret', eventsPort: 4567, logger: quiet });
  expect(r.mode).toBe('http');
  expect(r.receiver).toBeInstanceOf(HTTPReceiver);
  expect(r.startArgs).toEqual([{ port: 4567, host: '127.0.0.1' }]);
  expect(() => createSlackReceiver({ eventsPort: 1, logger: quiet })).toThrow(/SLACK_APP_TOKEN .*SLACK_SIGNING_SECRET/);
});

test('chat ids: sl:<conversation>, direct chats are D…', () => {
  expect(slackChannelId('sl:C0123ABC')).toBe('C0123ABC');
  expect(slackChannelId('tg:123')).toBeNull();
  expect(slackChannelId('sl:c0123')).toBeNull();
  expect(isSlackDirectChat('sl:D0123ABC')).toBe(true);
  expect(isSlackDirectChat('sl:C0123ABC')).toBe(false);
  expect(isSlackDirectChat('sl:G0123ABC')).toBe(false);
});

test('Markdown becomes mrkdwn; code is kept, only &, < and > escaped', () => {
  expect(toMrkdwn('**bold** and *it* and ~~gone~~')).toBe('*bold* and _it_ and ~gone~');
  expect(toMrkdwn('see [docs](https://x.test/a?b=1&c=2) <now>')).toBe(
    'see <https://x.test/a?b=1&c=2|docs> &lt;now&gt;',
  );
  expect(toMrkdwn('## Title')).toBe('*Title*');
  expect(toMrkdwn('`a **b** <c>`')).toBe('`a **b** &lt;c&gt;`');
  expect(toMrkdwn('```ts\nconst x = 1 && 2;\n```')).toBe('```\nconst x = 1 &amp;&amp; 2;\n```');
});

test("Slack's markup reads as text; a bot mention becomes the trigger form", () => {
  const names = {
    botUserId: 'UBOT',
    assistantName: 'Andy',
    userName: (id: string) => (id === 'U1' ? 'Alice' : undefined),
  };
  expect(fromSlackText('<@UBOT> hi <@U1> and <@U2>', names)).toBe('@Andy hi @Alice and @U2');
  expect(fromSlackText('in <#C1|general>: <https://x.test|site> <https://y.test> &lt;b&gt; &amp;', names)).toBe(
    'in #general: site (https://x.test) https://y.test <b> &',
  );
  expect(mentionsUser('<@UBOT> hi', 'UBOT')).toBe(true);
  expect(mentionsUser('@UBOT hi', 'UBOT')).toBe(false);
});

test('long replies split at 4000 characters at word breaks', () => {
  const text = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ');
  const parts = splitSlackText(text);
  expect(parts.length).toBeGreaterThan(1);
  expect(parts.every((p) => p.length <= 4000)).toBe(true);
  expect(parts.join(' ')).toBe(text);
});

test('the bot token goes only to Slack over HTTPS or the configured API server', () => {
  expect(tokenMayGoTo('https://files.slack.com/files-pri/T1-F1/a.png', 'https://slack.com/api/')).toBe(true);
  expect(tokenMayGoTo('http://files.slack.com/x', 'https://slack.com/api/')).toBe(false);
  expect(tokenMayGoTo('https://evil.test/slack.com', 'https://slack.com/api/')).toBe(false);
  expect(tokenMayGoTo('https://slack.com.evil.test/x', 'https://slack.com/api/')).toBe(false);
  expect(tokenMayGoTo('http://127.0.0.1:9/files-pri/F1', 'http://127.0.0.1:9/api/')).toBe(true);
  expect(tokenMayGoTo('http://127.0.0.1:10/files-pri/F1', 'http://127.0.0.1:9/api/')).toBe(false);
});

test('settings: tokens picked from piped input in any order; a bad owner id or port is named', () => {
  expect(parseSlackTokens('xapp-1-AAA\nxoxb-123-456-abc\n')).toEqual({
    botToken: 'xoxb-123-456-abc',
    appToken: 'xapp-1-AAA',
  });
  expect(() => slackSettings({ SLACK_OWNER_ID: 'alice' })).toThrow(/SLACK_OWNER_ID/);
  expect(() => slackSettings({ SLACK_EVENTS_PORT: 'x' })).toThrow(/SLACK_EVENTS_PORT/);
  expect(slackSettings({ SLACK_BOT_TOKEN: ' xoxb-1 ' }).botToken).toBe('xoxb-1');
});

test('doctor: not set up is info; a bot token without a way to receive events is a failure that says what to do', async () => {
  const { slackPlugin } = await import('../../../src/plugins/slack/plugin.js');
  const check = (env: Record<string, string>) => slackPlugin.doctor!({ env, config: {} as any, paths: {} as any })[0]!;
  expect(check({}).level).toBe('info');
  expect(check({ SLACK_BOT_TOKEN: 'xoxb-1-2-abcdefghij' })).toMatchObject({
    level: 'fail',
    fix: expect.stringContaining('nanoclaw auth slack'),
  });
  expect(check({ SLACK_BOT_TOKEN: 'xoxb-1-2-abcdefghij', SLACK_APP_TOKEN: 'xapp-1-A-1-abcdefghij' }).level).toBe('ok');
  expect(check({ SLACK_BOT_TOKEN: 'xoxb-1-2-abcdefghij', SLACK_SIGNING_SECRET: 's' }).detail).toContain(
    '127.0.0.1:3000',
  );
  expect(check({ SLACK_BOT_TOKEN: 'nope' }).level).toBe('fail');
});

test('the owner is SLACK_OWNER_ID or the person in the main DM, by member id; a member of that name elsewhere is not', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { openStore } = await import('../../../src/host.js');
  const { slackOwner } = await import('../../../src/plugins/slack/plugin.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-slack-owner-'));
  const store = openStore(path.join(dir, 'messages.db'));
  try {
    const main = {
      name: 'Me',
      folder: 'main',
      trigger: '@Andy',
      requiresTrigger: false,
      sandbox: {},
      addedAt: new Date().toISOString(),
    };
    store.groups.insert({ ...main, jid: 'sl:D0MAIN001', isMain: true });
    store.groups.insert({ ...main, jid: 'sl:D0OTHER01', folder: 'other', isMain: false });
    const isOwner = slackOwner(slackSettings({ SLACK_OWNER_ID: 'U0BOSS001' }), store);
    expect(isOwner('U0BOSS001', 'sl:C0ANY0001')).toBe(true);
    expect(isOwner('U0ME00001', 'sl:C0ANY0001')).toBe(false);
    // Seen writing in the main DM: the owner, here and in channels.
    expect(isOwner('U0ME00001', 'sl:D0MAIN001')).toBe(true);
    expect(isOwner('U0ME00001', 'sl:C0ANY0001')).toBe(true);
    // The person in another, non-main DM is not.
    expect(isOwner('U0STRANGE', 'sl:D0OTHER01')).toBe(false);
    expect(isOwner('U0STRANGE', 'sl:C0ANY0001')).toBe(false);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
