// The pure parts of the Discord channel: splitting at 2000 characters without
// breaking code blocks, readable mentions, chat ids and settings.
import { expect, test } from 'vitest';
import { readableMentions, splitDiscordText } from '../../../src/plugins/discord/format.js';
import { discordTarget, isDiscordDirectChat, isDiscordJid } from '../../../src/plugins/discord/jids.js';
import { discordSettings } from '../../../src/plugins/discord/plugin.js';
import { kindOf } from '../../../src/plugins/discord/attachments.js';

test('a short reply is one message; a long one splits at paragraphs, each part within the limit', () => {
  expect(splitDiscordText('hello')).toEqual(['hello']);
  const paras = Array.from({ length: 5 }, (_, i) => `${i}`.repeat(900));
  const parts = splitDiscordText(paras.join('\n\n'));
  expect(parts.every((p) => p.length <= 2000)).toBe(true);
  expect(parts.join('\n\n')).toBe(paras.join('\n\n'));
});

test('a code block cut in two is closed and reopened with its language, so each part renders', () => {
  const code = Array.from({ length: 200 }, (_, i) => `const x${i} = ${i};`).join('\n');
  const parts = splitDiscordText(`Before.\n\n\`\`\`ts\n${code}\n\`\`\`\nAfter.`);
  expect(parts.length).toBeGreaterThan(1);
  for (const p of parts) {
    expect(p.length).toBeLessThanOrEqual(2000);
    expect((p.match(/^```/gm) ?? []).length % 2).toBe(0);
  }
  expect(parts[1]!.startsWith('```ts\n')).toBe(true);
  expect(parts.at(-1)!.endsWith('After.')).toBe(true);
});

test('a word longer than the limit is cut hard, never inside a surrogate pair', () => {
  const parts = splitDiscordText('😀'.repeat(1500));
  expect(parts.every((p) => p.length <= 2000 && !/[\uD800-\uDBFF]$/.test(p))).toBe(true);
  expect(parts.join('')).toBe('😀'.repeat(1500));
});

test("mentions read as names; the bot's own becomes the trigger form", () => {
  const names = {
    botId: '111111111111111111',
    assistantName: 'Andy',
    user: (id: string) => (id === '222222222222222222' ? 'Bob <@111111111111111111>' : undefined),
    role: () => 'climbers',
    channel: () => 'general',
  };
  expect(readableMentions('<@111111111111111111> ping <@!222222222222222222> in <#3> for <@&4>', names)).toBe(
    '@Andy ping @Bob @111111111111111111 in #general for @climbers',
  );
  expect(readableMentions('<@999999999999999999>', names)).toBe('@unknown-user');
});

test('chat ids: channels and threads as dc:<id>, direct chats as dc:dm:<user id>', () => {
  expect(discordTarget('dc:135000000000000010')).toEqual({ kind: 'channel', channelId: '135000000000000010' });
  expect(discordTarget('dc:dm:135000000000000012')).toEqual({ kind: 'dm', userId: '135000000000000012' });
  expect(isDiscordDirectChat('dc:dm:135000000000000012')).toBe(true);
  expect(isDiscordDirectChat('dc:135000000000000010')).toBe(false);
  for (const other of ['tg:123', 'dc:', 'dc:abc', 'dc:dm:', 'dc:12', 'local:main'])
    expect(isDiscordJid(other)).toBe(false);
});

test('settings: the token without a "Bot " prefix, the API root without a trailing slash, a numeric owner id only', () => {
  expect(discordSettings({ DISCORD_BOT_TOKEN: 'Bot a.b.c ', DISCORD_API_URL: 'http://127.0.0.1:9/api/' })).toEqual({
    token: 'a.b.c',
    apiRoot: 'http://127.0.0.1:9/api',
    ownerId: null,
  });
  expect(() => discordSettings({ DISCORD_OWNER_ID: 'alice' })).toThrow(/numeric Discord user id/);
});

test('attachments: kind from the content type', () => {
  const f = (name: string, contentType: string | null, voice = false) => ({
    url: '',
    name,
    size: 1,
    contentType,
    voice,
  });
  expect(kindOf(f('a.png', 'image/png'))).toBe('image');
  expect(kindOf(f('voice-message.ogg', 'audio/ogg', true))).toBe('audio');
  expect(kindOf(f('x.pdf', 'application/pdf'))).toBe('document');
});
