// A new chat platform is one plugin folder plus one registry entry: the echo
// fixture (test/fixtures/channels/echo/) is handed to a real host as its
// plugin list, and a message in an echo chat gets its answer from the real
// agent back on the echo channel. Pairing, doctor and status take it from the list too.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CHANNELS } from '../../src/plugins/index.js';
import { checkChannels } from '../../src/cli/doctor-checks.js';
import { lastUserText } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';
import { echoPlugin, type EchoChannel } from '../fixtures/channels/echo/plugin.js';

let env: TestEnv;
let echo: EchoChannel | null = null;
const plugins = [
  ...CHANNELS,
  echoPlugin((ch) => {
    echo = ch;
  }),
];

beforeAll(async () => {
  env = await startTestEnv({
    env: { ECHO_ENABLED: 'true' },
    script: (req) => ({
      text: lastUserText(req).includes('what do you think') ? 'I think yes.' : 'Hello from the agent.',
    }),
    host: { channelPlugins: plugins },
  });
  expect(
    (await env.api('/api/groups', { method: 'POST', json: { jid: 'echo:club', name: 'Club', folder: 'club' } })).status,
  ).toBe(201);
});
afterAll(async () => {
  await env?.close();
});

test('a message in an echo chat is routed through the real host and the reply arrives at the echo channel', async () => {
  expect(env.host.channels.map((c) => c.name)).toEqual(['local', 'echo']);
  echo!.say('echo:club', 'sam', '@Andy hello there');
  await until(() => echo!.sent.length >= 1, 90_000, 'the reply on the echo channel');
  expect(echo!.sent).toEqual([{ jid: 'echo:club', text: 'Hello from the agent.' }]);
});

test('a mention the channel reports triggers the assistant, and the model sees the text as written', async () => {
  echo!.say('echo:club', 'sam', 'what do you think, bot?', { mentionsAssistant: true });
  await until(() => echo!.sent.some((m) => m.text === 'I think yes.'), 90_000, 'the answer to the mention');
  const req = env.fake
    .turnRequests()
    .filter((r) => lastUserText(r).includes('what do you think'))
    .at(-1)!;
  expect(lastUserText(req)).toMatch(/>what do you think, bot\?<\/message>/);
  expect(lastUserText(req)).not.toContain('@Andy what do you think');
});

test('pairing asks the plugin which chats are direct: a stranger in an echo DM gets a code, a group member does not', async () => {
  echo!.say('echo:dm-bob', 'bob', 'hi, who are you?');
  await until(() => echo!.sent.some((m) => m.jid === 'echo:dm-bob'), 10_000, 'the pairing code');
  expect(echo!.sent.find((m) => m.jid === 'echo:dm-bob')!.text).toMatch(/ask my owner to approve the code [A-Z0-9]{6}/);
  expect(env.host.pendingPairings().map((p) => p.chatJid)).toEqual(['echo:dm-bob']);
  echo!.say('echo:strangers', 'eve', 'hello?');
  await env.untilChat('echo:strangers', (ms) => ms.length === 1, 5_000, 'the stored group message');
  expect(env.host.pendingPairings().map((p) => p.chatJid)).toEqual(['echo:dm-bob']);
});

test("status lists every plugin with how to set it up, and doctor runs the plugin's own check", async () => {
  const status = (await (await env.api('/api/status')).json()) as {
    plugins: { name: string; setup: { command: string } | null }[];
  };
  expect(status.plugins.map((p) => p.name)).toEqual([...CHANNELS.map((p) => p.name), 'echo']);
  expect(status.plugins.find((p) => p.name === 'echo')!.setup).toMatchObject({ command: 'ECHO_ENABLED=true' });
  expect(checkChannels(env.config, plugins)).toContainEqual({ name: 'Echo', level: 'ok', detail: 'on' });
});
