// The Logs page's lines on their own: a finished turn reads as `nanoclaw logs` prints it, and every line names
// the chat it is about, so the page can filter by chat. The browser flow (live, redacted) is in
// test/e2e/dashboard-live.test.ts.
import { expect, test } from 'vitest';
import { logLine } from '../../../src/plugins/dashboard/live.js';

const at = Date.UTC(2026, 0, 5, 14, 2, 7);

test('a finished turn is one line with the chat, the trigger, its time, its tokens and how it ended', () => {
  const raw = { level: 30, time: at, msg: 'turn finished', group: 'family', chat: 'local:family' };
  expect(
    logLine(JSON.stringify({ ...raw, trigger: 'message', ms: 12_400, tokens: 3400, outcome: 'answered' })),
  ).toEqual({
    time: at,
    level: 'INFO',
    group: 'family',
    chat: 'local:family',
    text: 'turn in family (local:family), message, 12.4s, 3,400 tokens: answered',
  });
});

test('a problem keeps its fields, and names its chat however the line calls it', () => {
  const l = logLine(
    JSON.stringify({ level: 40, time: at, pid: 1, msg: 'run failed; retrying', key: 'local:kids', attempt: 2 }),
  );
  expect(l).toMatchObject({ level: 'WARN', group: null, chat: 'local:kids' });
  expect(l!.text).toBe('run failed; retrying  key=local:kids attempt=2');
  expect(logLine(JSON.stringify({ level: 50, msg: 'x', groupFolder: 'kids' }))).toMatchObject({
    level: 'ERROR',
    group: 'kids',
  });
});

test('what is not a log entry is left out', () => {
  expect(logLine('plain text from a crash')).toBeNull();
  expect(logLine('null')).toBeNull();
});
