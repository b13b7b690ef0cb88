// Regex bombs: triggers and assistant names made of regex syntax (including
// patterns famous for catastrophic backtracking) are matched literally, and a
// long adversarial message is checked in bounded time. The bound here is a
// hang detector (seconds), not a speed target. Through a real host too: an
// assistant named like a regex bomb, and a message built to explode it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseHostPort } from '../../src/plugins/egress/policy.js';
import { APPROVE_PATTERN } from '../../src/plugins/pairing/pairing.js';
import { defaultTrigger, isTriggered, stripInternal, triggerPattern } from '../../src/core/conversation/router.js';
import type { RegisteredGroup } from '../../src/core/types.js';
import { startTestEnv, type TestEnv } from '../support/harness.js';
import { countCases } from './count.js';

countCases('regex');

const HANG = 2_000;

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t };
}

const group = (trigger: string): RegisteredGroup => ({
  jid: 'local:g',
  name: 'G',
  folder: 'g',
  trigger,
  requiresTrigger: true,
  isMain: false,
  sandbox: {},
  addedAt: '',
});

/** Triggers written as regex syntax; each must match only itself. */
const BOMBS: string[] = [
  '(a+)+$',
  '(a|aa)+$',
  '(a|a?)+$',
  '(.*a){25}',
  '([a-zA-Z]+)*$',
  '(\\w+\\s?)*$',
  '^(a+)+',
  '(x+x+)+y',
  '(.*){1,32000}[bc]',
  '\\',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  '(?=a)',
  '(?<n>a)\\k<n>',
  '\\1',
  '$^',
  '.*.*.*.*=',
  '@Andy|.*',
  '@(Andy)?',
  'a{1,99999}',
  '\\p{L}+',
  '[^]',
  '\\u0000',
  '/(?:)/g',
  '@A.I.',
  '\\bAndy\\b',
  '@' + '(a*)*'.repeat(20),
  '*',
  '+',
  '?',
  '|',
  '@Jean-Luc',
  '[a-z]',
  '@\ud800',
  '@\u0000x',
];

describe('triggers are literal and bounded', () => {
  test.each(BOMBS.map((b) => [b]))('trigger %j', (bomb) => {
    const g = group(bomb);
    expect(() => triggerPattern(bomb)).not.toThrow();
    // Itself, at the start: addressed. Anything that would match only as a regex: not.
    expect(isTriggered(g, { text: `${bomb} hello`, fromAssistant: false })).toBe(true);
    expect(isTriggered(g, { text: `x${bomb} hello`, fromAssistant: false })).toBe(false);
    expect(isTriggered(g, { text: 'aaaa hello', fromAssistant: false })).toBe(bomb === 'aaaa');
    const evil = [
      'a'.repeat(50_000) + '!',
      bomb.repeat(Math.ceil(20_000 / bomb.length)) + '\u0000',
      ' '.repeat(50_000) + bomb.slice(0, -1),
      'x'.repeat(30_000) + 'y'.repeat(30_000),
    ];
    for (const text of evil) {
      const { value, ms } = timed(() => isTriggered(g, { text, fromAssistant: false }));
      expect(ms).toBeLessThan(HANG);
      expect(typeof value).toBe('boolean');
    }
  });

  test.each(['(a+)+$', 'A.I.(bot)+', '.*', '[x]', '\\d+', 'Andy|Bob', '$(id)', '^', 'An\u0000dy', '\ud83e\udd16+'])(
    'assistant name %j makes a literal default trigger',
    (name) => {
      const trigger = defaultTrigger(name);
      const g = group(trigger);
      expect(isTriggered(g, { text: `${trigger}, hi`, fromAssistant: false })).toBe(true);
      expect(isTriggered(g, { text: '@Andy hi', fromAssistant: false })).toBe(name === 'Andy');
      expect(isTriggered(g, { text: '@ hi', fromAssistant: false })).toBe(false);
      const { ms } = timed(() => isTriggered(g, { text: '@' + name.repeat(10_000) + '!', fromAssistant: false }));
      expect(ms).toBeLessThan(HANG);
    },
  );

  test.each<[string, () => unknown]>([
    [
      'a channel mention made of regex syntax',
      () =>
        isTriggered(
          group('@Andy'),
          { text: 'a'.repeat(60_000) + '!', fromAssistant: false },
          { mentions: ['(a+)+$', '@(.*)*'] },
        ),
    ],
    ['internal-reasoning stripping on an unclosed tag flood', () => stripInternal('<internal>'.repeat(50_000) + 'x')],
    [
      'internal-reasoning stripping on nested open tags',
      () => stripInternal('<internal><internal>'.repeat(20_000) + '</internal>'.repeat(20_000)),
    ],
    [
      'the pairing approval pattern on a long message',
      () => APPROVE_PATTERN.test('approve' + ' '.repeat(100_000) + 'ABCDEFG'),
    ],
    ['the pairing approval pattern on leading spaces', () => APPROVE_PATTERN.test(' '.repeat(100_000) + 'x')],
    [
      'an egress destination built to backtrack',
      () => parseHostPort('a-'.repeat(120) + '.' + 'b'.repeat(62) + '!', 443),
    ],
    ['an egress destination of many labels', () => parseHostPort('a.'.repeat(126) + '_', 443)],
  ])('%s stays bounded', (_what, run) => {
    const { ms } = timed(run);
    expect(ms).toBeLessThan(HANG);
  });
});

describe('through a real host whose assistant is named like a regex bomb', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ script: () => ({ text: 'ok' }), env: { ASSISTANT_NAME: '(a+)+$' } });
  });
  afterAll(async () => {
    await env?.close();
  });

  test.each([
    ['the default trigger', undefined],
    ['a trigger that is a regex bomb', '(.*a){25}'],
    ['a trigger of nested quantifiers', '((a*)*)*b'],
  ])('%s: an exploding message is stored at once and starts nothing', async (_what, trigger) => {
    const id = Math.random().toString(36).slice(2, 8);
    const reg = await env.api('/api/groups', {
      method: 'POST',
      json: { jid: `local:r${id}`, name: 'R', folder: `r${id}`, ...(trigger ? { trigger } : {}) },
    });
    expect(reg.status).toBe(201);
    expect(((await reg.json()) as any).group.trigger).toBe(trigger ?? '@(a+)+$');
    const t = performance.now();
    const res = await env.api(`/api/chats/local%3Ar${id}/messages`, {
      method: 'POST',
      json: { text: 'a'.repeat(200_000) + '!' },
    });
    expect(res.status).toBe(202);
    expect(performance.now() - t).toBeLessThan(HANG);
    const stored = await env.messages(`local:r${id}`);
    expect(stored.map((m) => m.text.length)).toEqual([200_001]);
    expect(env.host.agents.size).toBe(0);
    expect(env.host.queue.activeCount() + env.host.queue.waitingCount()).toBe(0);
  });

  test('a trigger with a hyphen (a character escaped wrongly would make the pattern invalid) is accepted, matched and answered', async () => {
    const reg = await env.api('/api/groups', {
      method: 'POST',
      json: { jid: 'local:droid', name: 'Droid', folder: 'droid', trigger: '@R2-D2' },
    });
    expect(reg.status).toBe(201);
    const quiet = await env.api('/api/chats/local%3Adroid/messages', {
      method: 'POST',
      json: { text: 'just chatting' },
    });
    expect(quiet.status).toBe(202);
    expect(env.host.agents.size).toBe(0);
    await env.send('local:droid', '@r2-d2 are you there?');
    const replies = await env.waitForReply('local:droid');
    expect(replies.map((m) => m.text)).toEqual(['ok']);
    expect((await env.messages('local:droid')).filter((m) => !m.fromAssistant).map((m) => m.text)).toEqual([
      'just chatting',
      '@r2-d2 are you there?',
    ]);
  });
});
