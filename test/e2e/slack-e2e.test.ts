// Slack end to end: the real Bolt app and Web API client against crabline's
// Slack provider server (Web API + Events API callbacks, signed) on 127.0.0.1,
// the real host started from the plugin's own settings, the real agent in a
// real sandbox, the fake model. Replies are counted at crabline's recorder,
// where a user would see them. Crabline serves no files, so a front before it
// (test/support/slack-files.ts) serves the one file and signs its file_share event.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lastUserText } from '../support/fake-anthropic.js';
import { startCrablineSlack, type Crabline, type Recorded } from '../support/crabline.js';
import { makeHome, startTestEnv, until, type TestEnv } from '../support/harness.js';
import { freePort, postSlackEvent, startSlackFront, type SlackFront } from '../support/slack-files.js';

const DM = 'D0ALICE01';
const CHANNEL = 'C0CLIMB01';
const ALICE = 'U0ALICE01';
const LONG = Array.from({ length: 900 }, (_, i) => `word${i}`).join(' ') + ' **the end**';

let env: TestEnv;
let slack: Crabline;
let front: SlackFront;
let eventsUrl: string;
const home = makeHome('nanoclaw-slack-');

const posts = (channel: string) =>
  slack
    .recorded()
    .filter((r: Recorded) => r.path === '/api/chat.postMessage' && r.accepted && r.body?.channel === channel)
    .map((r) => String(r.body.text));

async function untilPosts(channel: string, check: (texts: string[]) => boolean, what: string): Promise<string[]> {
  await slack.untilRecorded(() => check(posts(channel)), 60_000, what);
  return posts(channel);
}

beforeAll(async () => {
  const port = await freePort();
  eventsUrl = `http://127.0.0.1:${port}/slack/events`;
  slack = await startCrablineSlack(path.join(home, 'crabline'), { eventsUrl });
  front = await startSlackFront(slack.manifest.endpoints.apiRoot, slack.manifest.botToken);
  env = await startTestEnv({
    home,
    env: {
      SLACK_BOT_TOKEN: slack.manifest.botToken,
      SLACK_SIGNING_SECRET: slack.manifest.signingSecret,
      SLACK_API_URL: front.apiUrl,
      SLACK_EVENTS_PORT: String(port),
    },
    script: (req) => {
      const text = lastUserText(req);
      if (text.includes('hello from a dm')) return { text: 'Hello **Alice**, see [the guide](https://example.com/a?b=1&c=2).' };
      if (text.includes('what about ropes')) return { text: 'Ropes answer.' };
      if (text.includes('mention please')) return { text: 'Mention answer.' };
      if (text.includes('tell me more')) return { text: 'Thread answer.' };
      if (text.includes('a long one')) return { text: LONG };
      if (text.includes('look at this')) return { text: 'A lovely red square.' };
      return { text: 'Other answer.' };
    },
  });
  // A DM answers every message; the channel only when addressed.
  const dm = { jid: `sl:${DM}`, name: 'Alice', folder: 'alice', requiresTrigger: false };
  const channel = { jid: `sl:${CHANNEL}`, name: '#climbing', folder: 'climbing' };
  for (const json of [dm, channel]) expect((await env.api('/api/groups', { method: 'POST', json })).status).toBe(201);
});
afterAll(async () => {
  await env?.close();
  await front?.close();
  await slack?.stop();
});

test('a direct message is answered in the DM, in Slack mrkdwn', async () => {
  await slack.inject({ channel: DM, user: ALICE, text: 'hello from a dm' });
  const texts = await untilPosts(DM, (t) => t.length >= 1, 'the DM answer');
  expect(texts).toEqual(['Hello *Alice*, see <https://example.com/a?b=1&c=2|the guide>.']);
  const stored = await env.messages(`sl:${DM}`);
  expect(stored.find((m) => m.text === 'hello from a dm')?.sender).toBe(`sl:${ALICE}`);
});

test('in a channel an untriggered message is context; the trigger, an @mention and a reply in a bot thread are answered', async () => {
  await slack.inject({ channel: CHANNEL, user: ALICE, text: 'just chatting about ropes' });
  expect(await env.waitRouted((m) => m.text === 'just chatting about ropes', 20_000)).toBe('stored');

  await slack.inject({ channel: CHANNEL, user: ALICE, text: '@Andy what about ropes' });
  await untilPosts(CHANNEL, (t) => t.includes('Ropes answer.'), 'the triggered answer');
  expect(lastUserText(env.fake.turnRequests().at(-1)!)).toContain('just chatting about ropes');

  await slack.inject({ channel: CHANNEL, user: ALICE, text: '<@UCRABBOT> mention please' });
  await untilPosts(CHANNEL, (t) => t.includes('Mention answer.'), 'the mention answer');
  expect((await env.messages(`sl:${CHANNEL}`)).some((m) => m.text === '@Andy mention please')).toBe(true);

  // The bot's answer as Slack holds it, and a reply in its thread without trigger or mention.
  const history = await (
    await fetch(`${slack.manifest.endpoints.apiRoot}conversations.history?channel=${CHANNEL}`, {
      headers: { authorization: `Bearer ${slack.manifest.botToken}` },
    })
  ).json();
  const mine = history.messages.find((m: any) => m.text === 'Ropes answer.');
  await slack.inject({ channel: CHANNEL, user: ALICE, text: 'tell me more', threadTs: mine.ts });
  const texts = await untilPosts(CHANNEL, (t) => t.includes('Thread answer.'), 'the answer to the thread reply');
  expect(texts).toEqual(['Ropes answer.', 'Mention answer.', 'Thread answer.']);
});

test('a long reply is split below the Slack limit, in order, nothing lost', async () => {
  await slack.inject({ channel: DM, user: ALICE, text: 'a long one please' });
  const texts = await untilPosts(DM, (t) => t.some((x) => x.endsWith('*the end*')), 'the last piece');
  const pieces = texts.slice(1);
  expect(pieces.length).toBeGreaterThan(1);
  for (const p of pieces) expect(p.length).toBeLessThanOrEqual(4000);
  expect(pieces.join(' ')).toBe(LONG.replace('**the end**', '*the end*'));
});

// A 1x1 red PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

test('a photo is downloaded with the bot token into the group inbox and shown to the model', async () => {
  const file = front.addFile(PNG, { name: 'square.png', mimetype: 'image/png', filetype: 'png' });
  const status = await postSlackEvent(eventsUrl, slack.manifest.signingSecret, {
    type: 'message',
    subtype: 'file_share',
    channel: CHANNEL,
    channel_type: 'channel',
    user: ALICE,
    text: '@Andy look at this',
    ts: '1700001234.000100',
    files: [file],
  });
  expect(status).toBe(200);
  await untilPosts(CHANNEL, (t) => t.includes('A lovely red square.'), 'the photo answer');
  const inbox = path.join(home, 'groups', 'climbing', 'inbox');
  const files = fs.readdirSync(inbox);
  expect(files).toHaveLength(1);
  expect(files[0]).toMatch(/\.png$/);
  expect(fs.readFileSync(path.join(inbox, files[0]!))).toEqual(PNG);
  expect(front.downloads).toEqual([{ id: file.id, authorized: true }]);
  const req = env.fake.turnRequests().find((r) => r.text.includes('look at this'))!;
  const lastUser = req.body.messages.filter((m: any) => m.role === 'user').pop();
  expect(lastUser.content.find((c: any) => c.type === 'image')?.source?.data).toBe(PNG.toString('base64'));
  // Redelivery of the same event (Slack retries what it thinks was missed) is not stored or answered again.
  await postSlackEvent(eventsUrl, slack.manifest.signingSecret, {
    type: 'message',
    subtype: 'file_share',
    channel: CHANNEL,
    user: ALICE,
    text: '@Andy look at this',
    ts: '1700001234.000100',
    files: [file],
  });
  await until(() => env.host.queue.activeCount() === 0 && env.host.store.outbox.pending().length === 0, 30_000, 'the host to settle');
  expect(posts(CHANNEL).filter((t) => t === 'A lovely red square.')).toHaveLength(1);
  expect(fs.readdirSync(inbox)).toHaveLength(1);
});

test('a stranger in a DM gets a pairing code and is not answered by the agent', async () => {
  const before = env.fake.turnRequests().length;
  await slack.inject({ channel: 'D0NORA001', user: 'U0NORA001', text: 'hi, who are you?' });
  const texts = await untilPosts('D0NORA001', (t) => t.length >= 1, 'the pairing code');
  expect(texts[0]).toMatch(/code [A-Z0-9]{6}/);
  expect(env.host.store.groups.get('sl:D0NORA001')).toBeUndefined();
  expect(env.fake.turnRequests().length).toBe(before);
});

test('an unsigned or wrongly signed event is refused', async () => {
  expect(
    await postSlackEvent(eventsUrl, 'not-the-secret', {
      type: 'message',
      channel: DM,
      user: ALICE,
      text: 'forged',
      ts: '1700009999.000100',
    }),
  ).toBe(401);
  expect((await env.messages(`sl:${DM}`)).some((m) => m.text === 'forged')).toBe(false);
});
