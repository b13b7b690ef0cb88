// Chaos: SIGKILL the host at random points across a multi-group workload, many
// times. Afterwards every message is answered, none twice, and the store is intact.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { lastUserText, startFakeAnthropic } from '../support/fake-anthropic.js';
import { makeHome, TEST_KEY, until } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';

const MESSAGES = Number(process.env.CHAOS_MESSAGES ?? 200);
const KILLS = Number(process.env.CHAOS_KILLS ?? 20);
const GROUPS = ['main', 'alpha', 'beta', 'gamma'];

const home = makeHome('nanoclaw-chaos-');
// Each reply names the tokens it answers, so a token answered twice shows.
const fake = await startFakeAnthropic((req) => {
  const tokens = lastUserText(req).match(/tok-\d+/g) ?? [];
  return { text: tokens.length ? `ack ${[...new Set(tokens)].join(' ')}` : 'ok' };
});
let host: HostProcess | null = null;
afterAll(async () => {
  await host?.kill();
  await fake.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const env = {
  ANTHROPIC_API_KEY: TEST_KEY,
  ANTHROPIC_BASE_URL: fake.url,
  NANOCLAW_RUNTIME: 'bwrap',
  IDLE_TIMEOUT: '300',
  NANOCLAW_RETRY_BASE_MS: '100',
  MAX_CONCURRENT_AGENTS: '3',
};
const jid = (g: string) => `local:${g}`;

test(`${KILLS} SIGKILLs across ${MESSAGES} messages in ${GROUPS.length} groups: all answered once, store intact`, async () => {
  host = await startHostProcess(home, env);
  for (const g of GROUPS.slice(1)) {
    const res = await host.api('/api/groups', {
      method: 'POST',
      json: { jid: jid(g), name: g, folder: g, requiresTrigger: false },
    });
    expect(res.status).toBe(201);
  }
  let sent = 0;
  const perCycle = Math.ceil(MESSAGES / KILLS);
  for (let k = 0; k < KILLS; k++) {
    // Send a burst, let the host get some way into it, then kill it at a random point.
    const burst = Math.min(perCycle, MESSAGES - sent);
    const posts: Promise<Response>[] = [];
    for (let i = 0; i < burst; i++) {
      const n = sent++;
      posts.push(
        host.api(`/api/chats/${encodeURIComponent(jid(GROUPS[n % GROUPS.length]))}/messages`, {
          method: 'POST',
          json: { sender: 'u', senderName: 'User', text: `please note tok-${n}` },
        }),
      );
    }
    // Only messages the API accepted (202) count as sent; a kill can cut a request short.
    const results = await Promise.allSettled(posts);
    expect(results.every((r) => r.status === 'fulfilled' && r.value.status === 202)).toBe(true);
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1500)));
    await host.kill('SIGKILL');
    host = await startHostProcess(home, env);
  }
  // Let the last host finish everything.
  const db = () => new Database(path.join(home, 'store/messages.db'), { readonly: true });
  await until(
    () => {
      const d = db();
      try {
        const pending = d
          .prepare(
            `SELECT COUNT(*) AS n FROM messages m WHERE m.from_assistant = 0 AND m.seq > COALESCE((SELECT answered_seq FROM cursors c WHERE c.chat_jid = m.chat_jid), 0)`,
          )
          .get() as { n: number };
        const undelivered = d.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL`).get() as {
          n: number;
        };
        return pending.n === 0 && undelivered.n === 0;
      } finally {
        d.close();
      }
    },
    240_000,
    'every message answered and delivered',
  );

  const d = db();
  const replies = d.prepare(`SELECT text FROM messages WHERE from_assistant = 1`).all() as { text: string }[];
  const acks = new Map<string, number>();
  for (const r of replies) for (const t of r.text.match(/tok-\d+/g) ?? []) acks.set(t, (acks.get(t) ?? 0) + 1);
  const stored = (
    d
      .prepare(`SELECT COUNT(*) AS n FROM messages WHERE from_assistant = 0 AND text LIKE 'please note tok-%'`)
      .get() as { n: number }
  ).n;
  expect(stored).toBe(MESSAGES);
  const missing = Array.from({ length: MESSAGES }, (_, n) => `tok-${n}`).filter((t) => !acks.has(t));
  const twice = [...acks.entries()].filter(([, c]) => c > 1).map(([t]) => t);
  expect(missing).toEqual([]);
  expect(twice).toEqual([]);
  expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
  d.close();
});
