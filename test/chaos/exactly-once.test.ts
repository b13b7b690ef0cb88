// Chaos where the user looks: SIGKILLs of the real host (`nanoclaw start`) at random moments during a
// stream of numbered messages into several chats on crabline's Telegram, Discord and Signal, some of
// them sent while the host is down. Counted at crabline, in what the bot posted: every number answered
// (none lost), in the order it was sent in its chat, and on Discord never twice. Telegram and Signal have
// no idempotency key, so a kill between the server taking a reply and our outbox marking it can repeat
// that reply: the test prints how often that happened, and the window, per platform (the README states
// the figures).
//
// The kill moments come from a seeded RNG (CHAOS_SEED to replay a run): half at a random delay, half
// the moment crabline records a new reply on one platform, picked per round (the window where a reply
// was at risk of going out twice).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lastUserText, startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { startCrabline, type Crabline, type Recorded } from '../support/crabline.js';
import { makeHome, TEST_KEY, until } from '../support/harness.js';
import { startHostProcess, type HostProcess } from '../support/host-process.js';

const KILLS = Number(process.env.CHAOS_KILLS ?? 20);
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31);
const TG_CHATS = ['-1001000000001', '-1001000000002'];
const ALICE_TG = 100001;
const ALICE_DC = { senderId: '135000000000000012', senderName: 'Alice' };
const ALICE_SIG = '+15551234567';
// Someone else than the account, so replies carry no "Andy:" prefix and the DM is Alice's.
const OWNER_SIG = '+15557654321';
const SIG_GROUP = 'signalgroup01';

/** mulberry32: a small seeded RNG, so a failing run can be replayed with CHAOS_SEED. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Platform = 'telegram' | 'discord' | 'signal';
type Chat = { platform: Platform; id: string };

const home = makeHome('nanoclaw-once-');
let tg: Crabline;
let dc: Crabline;
let sig: Crabline;
let fake: FakeAnthropic;
let host: HostProcess | null = null;
let chats: Chat[] = [];
let env: Record<string, string> = {};
let proxy: http.Server;
// Set by the replay test: Discord's catch-up fetch is held until `release` resolves.
let holdCatchUp: { asked: () => void; release: Promise<void> } | null = null;

/** Discord's REST API through a proxy, so a test can hold the catch-up fetch open while live messages arrive. */
async function startDiscordProxy(baseUrl: string): Promise<string> {
  proxy = http.createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const d of req) parts.push(d as Buffer);
    const hold = holdCatchUp;
    if (hold && req.method === 'GET' && /\/messages\?.*after=/.test(req.url ?? '')) {
      hold.asked();
      await hold.release;
    }
    const upstream = await fetch(baseUrl + req.url, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
      ) as Record<string, string>,
      body: ['GET', 'HEAD'].includes(req.method!) ? undefined : new Uint8Array(Buffer.concat(parts)),
    });
    res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api`;
}

beforeAll(async () => {
  tg = await startCrabline('telegram', path.join(home, 'crabline-tg'));
  dc = await startCrabline('discord', path.join(home, 'crabline-dc'));
  sig = await startCrabline('signal', path.join(home, 'crabline-sig'));
  // Each reply names the numbers it answers, so a number answered twice, or late, shows at crabline.
  fake = await startFakeAnthropic((req) => {
    const tokens = lastUserText(req).match(/tok-\d+/g) ?? [];
    return { text: tokens.length ? `ack ${[...new Set(tokens)].join(' ')}` : 'ok' };
  });
  const { channelId } = dc.manifest.fixture;
  chats = [
    ...TG_CHATS.map((id): Chat => ({ platform: 'telegram', id })),
    { platform: 'discord', id: channelId },
    { platform: 'discord', id: '135000000000000041' },
    // Signal last: the replay test below picks chats by index. A direct chat (Alice's number) and a group.
    { platform: 'signal', id: ALICE_SIG },
    { platform: 'signal', id: SIG_GROUP },
  ];
  env = {
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: fake.url,
    NANOCLAW_RUNTIME: 'bwrap',
    IDLE_TIMEOUT: '300',
    NANOCLAW_RETRY_BASE_MS: '100',
    MAX_CONCURRENT_AGENTS: '3',
    NANOCLAW_CONFIG_DIR: path.join(home, '.config-nanoclaw'),
    TELEGRAM_BOT_TOKEN: tg.manifest.botToken,
    TELEGRAM_API_ROOT: tg.manifest.endpoints.apiRoot,
    DISCORD_BOT_TOKEN: dc.manifest.botToken,
    DISCORD_API_URL: await startDiscordProxy(dc.manifest.baseUrl),
    SIGNAL_CLI_URL: sig.manifest.endpoints.apiRoot,
    SIGNAL_ACCOUNT: sig.manifest.account,
    SIGNAL_OWNER: OWNER_SIG,
  };
});
afterAll(async () => {
  await host?.kill();
  await tg?.stop();
  await dc?.stop();
  await sig?.stop();
  await fake?.close();
  proxy?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const PREFIX: Record<Platform, string> = { telegram: 'tg:', discord: 'dc:', signal: 'sig:' };
// A Signal chat id is a number (a direct chat) or a group id.
const isSignalGroup = (c: Chat) => c.platform === 'signal' && !c.id.startsWith('+');
const jidOf = (c: Chat) => (isSignalGroup(c) ? `sig:g:${c.id}` : `${PREFIX[c.platform]}${c.id}`);

function send(c: Chat, text: string): Promise<unknown> {
  if (c.platform === 'telegram') return tg.inject({ chatId: c.id, fromId: ALICE_TG, fromName: 'Alice', text });
  if (c.platform === 'signal')
    return sig.inject({
      sourceNumber: ALICE_SIG,
      sourceName: 'Alice',
      text,
      ...(isSignalGroup(c) ? { groupId: c.id } : {}),
    });
  return dc.inject({ channelId: c.id, guildId: dc.manifest.fixture.guildId, ...ALICE_DC, content: text });
}

/** The sends a platform's server accepted: the chat, the text (Telegram's MarkdownV2 unescaped), when. */
function accepted(platform: Platform): { jid: string; text: string; at: string }[] {
  const server = { telegram: tg, discord: dc, signal: sig }[platform];
  return server
    .recorded()
    .filter((l) => l.type === 'api' && l.accepted)
    .flatMap((l: Recorded) => {
      if (platform === 'telegram' && /\/sendMessage$/.test(l.path ?? ''))
        return [{ jid: `tg:${l.body?.chat_id}`, text: unescape(String(l.body?.text ?? '')), at: l.at }];
      const dcPath = /^\/api\/v10\/channels\/(\d+)\/messages$/.exec(l.path ?? '');
      if (platform === 'discord' && l.method === 'POST' && dcPath)
        return [{ jid: `dc:${dcPath[1]}`, text: String(l.body?.content ?? ''), at: l.at }];
      if (platform === 'signal' && l.body?.method === 'send') {
        const p = l.body.params ?? {};
        const jid = p.groupId ? `sig:g:${p.groupId}` : `sig:${p.recipient}`;
        return [{ jid, text: String(p.message ?? ''), at: l.at }];
      }
      return [];
    });
}

/** What the bot posted to a chat, in the order crabline accepted it. */
const posts = (c: Chat): string[] =>
  accepted(c.platform)
    .filter((s) => s.jid === jidOf(c))
    .map((s) => s.text);

/** A platform's window, per reply: from crabline recording the send to our outbox marking it delivered (ms). */
function windows(platform: 'telegram' | 'signal'): number[] {
  const db = new Database(path.join(home, 'store', 'messages.db'), { readonly: true });
  const items = db
    .prepare(
      `SELECT chat_jid AS jid, text, delivered_at AS at FROM outbox
       WHERE chat_jid LIKE ? AND delivered_at IS NOT NULL`,
    )
    .all(`${PREFIX[platform]}%`) as { jid: string; text: string; at: string }[];
  db.close();
  const lines = accepted(platform);
  return items.flatMap((i) => {
    const same = lines.filter((l) => l.jid === i.jid && l.text === i.text);
    // A reply posted twice is one the kill caught inside the window: counted as a duplicate, not timed.
    return same.length === 1 ? [Date.parse(i.at) - Date.parse(same[0]!.at)] : [];
  });
}

const unescape = (t: string) => t.replace(/\\([_*[\]()~`>#+\-=|{}.!\\])/g, '$1');

const of = (p: Platform) => chats.filter((c) => c.platform === p);

/** Per chat: numbers never answered, numbers answered more than once, and answers out of sending order. */
function tally(sent: Map<string, number[]>) {
  const result = new Map<string, { lost: number[]; duplicates: number; outOfOrder: number[] }>();
  for (const c of chats) {
    const acked = posts(c).flatMap((p) => (p.match(/tok-\d+/g) ?? []).map((t) => Number(t.slice(4))));
    const seen = new Set<number>();
    const firsts: number[] = [];
    for (const n of acked) if (!seen.has(n) && seen.add(n)) firsts.push(n);
    result.set(jidOf(c), {
      lost: (sent.get(jidOf(c)) ?? []).filter((n) => !seen.has(n)),
      duplicates: acked.length - firsts.length,
      outOfOrder: firsts.filter((n, i) => i > 0 && n < firsts[i - 1]!),
    });
  }
  return result;
}

async function register(h: HostProcess): Promise<void> {
  for (const c of chats) {
    const folder = `${c.platform}-${c.id.slice(-2)}`;
    const json = { jid: jidOf(c), name: `${c.platform} ${c.id}`, folder, requiresTrigger: false };
    const res = await h.api('/api/groups', { method: 'POST', json });
    expect(res.status, await res.clone().text()).toBe(201);
  }
}

const TITLE = `${KILLS} SIGKILLs amid numbered messages on crabline Telegram, Discord, Signal: 0 lost, 0 out of order`;
test(TITLE, async () => {
  const rng = seeded(SEED);
  console.log(`exactly-once chaos: seed ${SEED} (CHAOS_SEED=${SEED} replays the kill moments)`);
  const sent = new Map<string, number[]>();
  let n = 0;
  const next = async (c: Chat) => {
    const k = n++;
    await send(c, `please note tok-${k}`);
    sent.set(jidOf(c), [...(sent.get(jidOf(c)) ?? []), k]);
  };

  host = await startHostProcess(home, env);
  await register(host);
  // A first answered message in each chat: where Discord's catch-up starts after a restart.
  for (const c of chats) await next(c);
  await until(() => chats.every((c) => posts(c).length > 0), 120_000, 'a first answer in every chat');

  const killedOnReply: Record<Platform, number> = { telegram: 0, discord: 0, signal: 0 };
  for (let k = 0; k < KILLS; k++) {
    const round = [0, 1, 2].map(() => chats[Math.floor(rng() * chats.length)]!);
    for (const c of round) await next(c);
    // Aimed at the platform of the last chat written to, so each platform gets its share of aimed kills
    // (on the first reply anywhere, Signal's paced replies would rarely be the one caught).
    const aim = round[2]!.platform;
    const aimed = () => of(aim).reduce((s, c) => s + posts(c).length, 0);
    const aimedBefore = aimed();
    if (rng() < 0.5) {
      // The moment a reply lands at the server: the outbox may not know yet.
      await until(() => aimed() > aimedBefore, 30_000, 'a reply to kill on').then(
        () => killedOnReply[aim]++,
        () => {},
      );
    } else await new Promise((r) => setTimeout(r, Math.floor(rng() * 1500)));
    await host.kill('SIGKILL');
    // Messages sent while the host is down: the backlog a restart must store, in order, before a turn.
    for (let i = 0, m = 1 + Math.floor(rng() * 3); i < m; i++) await next(chats[Math.floor(rng() * chats.length)]!);
    const starting = startHostProcess(home, env);
    // And one while it starts: live messages must not overtake the backlog.
    await new Promise((r) => setTimeout(r, Math.floor(rng() * 800)));
    await next(chats[Math.floor(rng() * chats.length)]!);
    host = await starting;
  }

  const allAnswered = () => [...tally(sent).values()].every((t) => t.lost.length === 0);
  // A timeout here is reported below, number by number.
  await until(allAnswered, 240_000, 'every number answered').catch(() => {});
  await host.settled(120_000);
  const result = tally(sent);
  // Replies that reached the chat twice (the same text again), beside the numbers they answered twice.
  const twice = (p: Platform) => of(p).reduce((s, c) => s + posts(c).length - new Set(posts(c)).size, 0);
  const dup = (p: Platform) => of(p).reduce((s, c) => s + result.get(jidOf(c))!.duplicates, 0);
  const replies = (p: Platform) => of(p).reduce((s, c) => s + posts(c).length, 0);
  const atLeastOnce = (p: Platform, name: string) =>
    `${name}: ${twice(p)} of ${replies(p)} replies posted twice (${dup(p)} numbers answered twice)`;
  console.log(
    `exactly-once chaos: ${n} messages, ${KILLS} SIGKILLs (on a reply landing: ${JSON.stringify(killedOnReply)}); ` +
      `${atLeastOnce('telegram', 'Telegram')}; ${atLeastOnce('signal', 'Signal')}; ` +
      `Discord: ${replies('discord')} replies`,
  );
  for (const [p, name] of [
    ['telegram', 'Telegram'],
    ['signal', 'Signal'],
  ] as const) {
    const w = windows(p).sort((a, b) => a - b);
    const pct = (q: number) => w[Math.min(w.length - 1, Math.floor(q * w.length))] ?? NaN;
    console.log(
      `exactly-once chaos: ${name} window (server took it → outbox marked), ${w.length} replies sent once: ` +
        `median ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${w.at(-1)} ms`,
    );
  }
  if (process.env.CHAOS_VERBOSE) for (const c of chats) console.log(jidOf(c), posts(c));
  for (const [jid, t] of result) {
    expect(t.lost, `${jid}: numbers never answered`).toEqual([]);
    expect(t.outOfOrder, `${jid}: answered after a later number`).toEqual([]);
    if (jid.startsWith('dc:')) expect(t.duplicates, `${jid}: answers posted twice`).toBe(0);
  }
});

test('several missed messages, more arriving at the restart: the agent sees and answers them in order', async () => {
  await host?.kill('SIGKILL');
  const tgChat = chats[0]!;
  const dcChat = chats[2]!;
  const sentTo = new Map<string, number[]>([
    [jidOf(tgChat), []],
    [jidOf(dcChat), []],
  ]);
  const postsBefore = new Map(chats.map((c) => [jidOf(c), posts(c).length]));
  const turnsBefore = fake.turnRequests().length;
  let k = 10_000;
  const note = async (c: Chat) => {
    const n = k++;
    await send(c, `please note tok-${n}`);
    sentTo.get(jidOf(c))!.push(n);
  };
  // Five missed in each chat, interleaved; then a restart, and three more posted live on Discord while
  // its catch-up fetch is still out (held open here), and on Telegram meanwhile.
  for (let i = 0; i < 5; i++) for (const c of [tgChat, dcChat]) await note(c);
  let release = () => {};
  const asked = new Promise<void>((resolve) => {
    holdCatchUp = { asked: resolve, release: new Promise<void>((r) => (release = r)) };
  });
  const starting = startHostProcess(home, env);
  try {
    await asked;
    for (let i = 0; i < 3; i++) for (const c of [tgChat, dcChat]) await note(c);
    // Long enough for a live message to be stored and start a turn if nothing holds it back.
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    holdCatchUp = null;
    release();
  }
  host = await starting;
  await host.settled(120_000);

  const turns = fake.turnRequests().slice(turnsBefore);
  for (const c of [tgChat, dcChat]) {
    const mine = new Set(sentTo.get(jidOf(c)));
    // The order the agent was told them, turn after turn, and the order its answers reached the chat.
    const told = turns.flatMap((r) => (lastUserText(r).match(/tok-\d+/g) ?? []).map((t) => Number(t.slice(4))));
    const seen = told.filter((n) => mine.has(n));
    const answered = posts(c)
      .slice(postsBefore.get(jidOf(c)))
      .flatMap((p) => (p.match(/tok-\d+/g) ?? []).map((t) => Number(t.slice(4))));
    expect([...new Set(seen)], `${jidOf(c)}: the order the agent saw them`).toEqual(sentTo.get(jidOf(c)));
    expect(answered, `${jidOf(c)}: the order the answers arrived`).toEqual(sentTo.get(jidOf(c)));
  }
});
