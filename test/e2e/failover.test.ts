// Failover you can see (issue 24): when the primary model API is overloaded, failing, silent, refusing connections,
// refusing its key or out of credit, the same call goes to the fallback of NANOCLAW_MODEL_FALLBACKS with the
// fallback's own key, the chat gets one answer and one line saying who answered and why, and the host goes back to
// the primary once a background check finds it answering. Real host, sandbox and SDK CLI; two fake upstreams.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lastUserText, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { troubles } from '../../src/cli/status.js';
import { TEST_KEY, startTestEnv, until, type TestEnv } from '../support/harness.js';

const FALLBACK_KEY = 'fallback-key-4d81c9e2a7';
let env: TestEnv;
let fallback: FakeAnthropic;
// How the primary fails now; null: it answers.
let failing: null | 'status' | 'hang' = null;
let failStatus = 529;
let failBody: unknown;
// The last #tag of the chat's newest message: which question an answer is for.
const tag = (req: Parameters<typeof lastUserText>[0]) => [...lastUserText(req).matchAll(/#([\w-]+)/g)].at(-1)?.[1];

beforeAll(async () => {
  fallback = await startFakeAnthropic((req) => ({ text: `Fallback here: ${tag(req)}` }));
  fallback.requireKey(FALLBACK_KEY);
  env = await startTestEnv({
    env: {
      IDLE_TIMEOUT: '60000',
      NANOCLAW_MODEL_FALLBACKS: `url=${fallback.url} key_env=FALLBACK_1_API_KEY model=local-qwen`,
      FALLBACK_1_API_KEY: FALLBACK_KEY,
      NANOCLAW_FAILOVER_TIMEOUT_MS: '1500',
      NANOCLAW_FAILOVER_CHECK_MS: '200',
    },
    script: (req) =>
      failing === 'hang'
        ? { hang: true }
        : failing === 'status'
          ? { status: failStatus, body: failBody }
          : { text: `Primary here: ${tag(req)}` },
  });
}, 60_000);
afterAll(async () => {
  await env?.close();
  await fallback?.close();
});

const said = (ms: any[]) => ms.filter((m) => m.fromAssistant);
const status = async () => (await (await env.api('/api/status')).json()) as any;
const onPrimary = async () => (await status()).failover.onPrimary === true;

/** Asks main a question tagged `id`, waits for `who`'s answer to it; answers every line the chat showed since. */
async function ask(id: string, who: 'Primary' | 'Fallback') {
  const before = said(await env.messages('local:main')).length;
  await env.send('local:main', `a question #${id}`);
  const answer = `${who} here: ${id}`;
  const ms = await env.untilChat('local:main', (m) => said(m).some((x) => x.text === answer), 60_000, answer);
  return said(ms)
    .slice(before)
    .map((m) => m.text);
}

describe('the primary fails, the fallback answers, the host goes back', () => {
  const notice = (why: string) =>
    new RegExp(
      `^Answered by local-qwen on ${fallback.url.replace(/\./g, '\\.')}: ${env.fake.url.replace(/\./g, '\\.')} ${why}`,
    );

  test('the primary answers while it can', async () => {
    expect(await ask('hello', 'Primary')).toEqual(['Primary here: hello']);
    expect((await status()).failover).toMatchObject({ onPrimary: true, active: env.fake.url, why: null });
    expect(fallback.requests).toHaveLength(0);
  });

  const cases: [string, string, () => Promise<void> | void, () => Promise<void> | void][] = [
    [
      'overloaded (529)',
      'is overloaded \\(HTTP 529\\)',
      () => void ((failing = 'status'), (failStatus = 529)),
      () => void (failing = null),
    ],
    [
      'failing (503)',
      'is failing \\(HTTP 503\\)',
      () => void ((failing = 'status'), (failStatus = 503)),
      () => void (failing = null),
    ],
    ['silent (timeout)', 'did not answer within 1\\.5 s', () => void (failing = 'hang'), () => void (failing = null)],
    [
      'down (connection refused)',
      'refused the connection',
      () => env.fake.setDown(true),
      () => env.fake.setDown(false),
    ],
    [
      'refusing its key (401)',
      'refused its key \\(HTTP 401\\)',
      () => env.fake.requireKey('another-accounts-key'),
      () => env.fake.requireKey(null),
    ],
    [
      'out of credit',
      'is out of credit \\(HTTP 400\\)',
      () => {
        failing = 'status';
        failStatus = 400;
        failBody = {
          type: 'error',
          error: {
            type: 'invalid_request_error',
            message: 'Your credit balance is too low to access the Anthropic API.',
          },
        };
      },
      () => {
        failing = null;
        failBody = undefined;
      },
    ],
  ];

  test.each(cases)('primary %s: one answer, one notice, back to the primary', async (name, why, fail, recover) => {
    await fail();
    const id = name.replace(/\W+/g, '-');
    // The notice comes as the fallback starts answering, the answer after it: two lines, nothing more.
    expect(await ask(id, 'Fallback')).toEqual([expect.stringMatching(notice(why)), `Fallback here: ${id}`]);
    const s = (await status()).failover;
    expect(s).toMatchObject({ onPrimary: false, active: fallback.url });
    expect(s.why).toMatch(new RegExp(why));
    // `nanoclaw status` and `doctor` list it as what needs attention.
    expect(troubles(await status())).toContainEqual(
      expect.stringMatching(new RegExp(`^Model calls go to the fallback .*: .*${why}.*goes back to the primary`)),
    );
    // The fallback got its own key and model, never the primary's key.
    const last = fallback.turnRequests().at(-1)!;
    expect(last.headers['x-api-key']).toBe(FALLBACK_KEY);
    expect(last.body.model).toBe('local-qwen');
    expect(fallback.requests.some((r) => JSON.stringify(r.headers).includes(TEST_KEY))).toBe(false);

    // While the primary is down, the next turn goes straight to the fallback: no second notice, the primary untried.
    const primaryTurns = env.fake.turnRequests().length;
    expect(await ask(`${id}-again`, 'Fallback')).toEqual([`Fallback here: ${id}-again`]);
    expect(env.fake.turnRequests().length).toBe(primaryTurns);

    // The background check finds the primary answering again: the next turn is the primary's, without a notice.
    await recover();
    await until(onPrimary, 20_000, 'the host back on the primary');
    expect(troubles(await status())).toEqual([]);
    expect(await ask(`${id}-back`, 'Primary')).toEqual([`Primary here: ${id}-back`]);
  });

  test('no key of either upstream reached the other, and the whole chat holds exactly what was said', async () => {
    expect(env.fake.requests.some((r) => JSON.stringify(r.headers).includes(FALLBACK_KEY))).toBe(false);
    const texts = said(await env.messages('local:main')).map((m) => m.text);
    // 1 answer at first, then per case: notice, answer, answer, the primary's answer.
    expect(texts).toHaveLength(1 + cases.length * 4);
    expect(texts.filter((t) => /^Answered by/.test(t))).toHaveLength(cases.length);
  });
});
