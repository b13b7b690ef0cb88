// `npm run bench`: NanoClaw's speed and memory figures, printed as a Markdown
// table. `--write` also saves them to docs/BENCHMARKS.md with the machine they
// ran on; `--quick` runs smaller sizes. Everything runs against the fake
// Anthropic API on 127.0.0.1; the sandbox is real bubblewrap unless noted.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TELEGRAM_PACING } from '../src/plugins/telegram/telegram.js';
import { WHATSAPP_PACING } from '../src/plugins/whatsapp/whatsapp.js';
import { loadConfig } from '../src/core/config/config.js';
import { createDelivery } from '../src/core/delivery/delivery.js';
import { startHost, type HostOptions } from '../src/host.js';
import { silentLogger } from '../src/core/logger.js';
import { GLIBC_TUNABLES } from '../src/cli/service-units.js';
import { projectRoot } from '../src/core/config/project-root.js';
import { formatCatchUp } from '../src/core/conversation/router.js';
import { openStore } from '../src/host.js';
import type { Channel, ChannelPacing, Message } from '../src/core/types.js';
import { startFakeAnthropic, type FakeAnthropic } from '../test/support/fake-anthropic.js';
import { telegramLatency } from './channel-telegram.js';
import { whatsappLatency } from './channel-whatsapp.js';
import { createEchoRuntime } from './echo-runtime.js';

const quick = process.argv.includes('--quick');
const write = process.argv.includes('--write');
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');

interface Row {
  area: string;
  metric: string;
  value: string;
  target: string;
  met: string;
}
const rows: Row[] = [];
const row = (area: string, metric: string, value: string, target = '', met?: boolean) => {
  rows.push({ area, metric, value, target, met: met === undefined ? '' : met ? 'yes' : '**no**' });
  process.stderr.write(`  ${area} · ${metric}: ${value}${target ? ` (target ${target})` : ''}\n`);
};

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function waitFor(check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('bench: timed out');
    await sleep(1);
  }
}

/** A host in a fresh home, with timing hooks. */
async function benchHost(fake: FakeAnthropic, env: Record<string, string>, extra: Partial<HostOptions> = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-bench-'));
  const delivered: { at: number; kind: string; folder: string }[] = [];
  const config = loadConfig(
    {
      NANOCLAW_HOME: home,
      NANOCLAW_CONFIG_DIR: path.join(home, '.cfg'),
      ANTHROPIC_API_KEY: 'sk-bench',
      ANTHROPIC_BASE_URL: fake.url,
      NANOCLAW_RUNTIME: 'bwrap',
      NANOCLAW_HTTP_PORT: '0',
      TZ: 'UTC',
      // The warm area turns warm agents on; elsewhere they would change what is measured.
      NANOCLAW_WARM_AGENTS: '0',
      ...env,
    },
    home,
  );
  const host = await startHost({
    config,
    logger: silentLogger(),
    channels: [],
    onPromptDelivered: (folder, kind) => delivered.push({ at: performance.now(), kind, folder }),
    ...extra,
  });
  const replies = new Map<string, number>();
  host.subscribe((m) => {
    if (m.fromAssistant) replies.set(m.chatJid, (replies.get(m.chatJid) ?? 0) + 1);
  });
  const local = host.channels[0];
  let n = 0;
  const send = (chatJid: string, text: string) => {
    const msg: Message = {
      id: `b${++n}`,
      chatJid,
      sender: 'bench',
      senderName: 'Bench',
      text,
      timestamp: new Date().toISOString(),
      fromMe: false,
      fromAssistant: false,
    };
    host.receive(msg, local);
  };
  return {
    host,
    delivered,
    replies,
    send,
    home,
    async close() {
      await host.stop();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** accepted → runner has its prompt, and accepted → reply stored, cold and warm. */
async function overhead(fake: FakeAnthropic, runtime: 'echo' | 'bwrap', runs: number) {
  const label = runtime === 'echo' ? 'host only (echo runner)' : 'bwrap + Claude Agent SDK';
  for (const kind of ['cold', 'warm'] as const) {
    const b = await benchHost(
      fake,
      { IDLE_TIMEOUT: kind === 'cold' ? '0' : '600000' },
      runtime === 'echo' ? { runtime: createEchoRuntime() } : {},
    );
    const toPrompt: number[] = [];
    const toReply: number[] = [];
    if (kind === 'warm') {
      b.send('local:main', 'warm-up');
      await waitFor(() => (b.replies.get('local:main') ?? 0) >= 1);
    }
    for (let i = 0; i < runs; i++) {
      if (kind === 'cold') await waitFor(() => b.host.agents.size === 0);
      const before = b.replies.get('local:main') ?? 0;
      const seen = b.delivered.length;
      const t0 = performance.now();
      b.send('local:main', `message ${i}`);
      await waitFor(() => b.delivered.length > seen);
      toPrompt.push(b.delivered[seen].at - t0);
      await waitFor(() => (b.replies.get('local:main') ?? 0) > before);
      toReply.push(performance.now() - t0);
      if (b.delivered[seen].kind !== kind)
        throw new Error(`bench: expected a ${kind} delivery, got ${b.delivered[seen].kind}`);
    }
    await b.close();
    const p50 = pct(toPrompt, 50);
    const target = kind === 'warm' ? 20 : 300;
    row(
      label,
      `${kind}: accepted → runner has prompt (p50/p95/p99, n=${runs})`,
      `${ms(p50)} / ${ms(pct(toPrompt, 95))} / ${ms(pct(toPrompt, 99))}`,
      runtime === 'echo' && kind === 'warm'
        ? '≤ 20 ms p50'
        : runtime === 'bwrap' && kind === 'cold'
          ? '≤ 300 ms p50'
          : '',
      (runtime === 'echo' && kind === 'warm') || (runtime === 'bwrap' && kind === 'cold') ? p50 <= target : undefined,
    );
    row(
      label,
      `${kind}: accepted → reply stored and sent (p50/p95/p99)`,
      `${ms(pct(toReply, 50))} / ${ms(pct(toReply, 95))} / ${ms(pct(toReply, 99))}`,
    );
  }
}

/** The gateway's added latency on a model call: direct to an upstream vs through a gateway socket. */
async function gatewayLatency(runs: number) {
  const { measureGatewayLatency } = await import('./hooks.js');
  const { direct, viaGateway } = await measureGatewayLatency({ samples: runs });
  const added = pct(viaGateway, 50) - pct(direct, 50);
  row('gateway', `added latency on a model call (p50, n=${runs})`, ms(added), '≤ 2 ms p50', added <= 2);
}

/** Cold start to runner-ready on each runtime that works here (docker/podman need the image built). */
async function runtimes(samples: number) {
  const { measureColdStart } = await import('./hooks.js');
  const { selectRuntime } = await import('../src/core/sandbox/runtimes.js');
  const { RUNTIMES } = await import('../src/plugins/index.js');
  for (const name of ['bwrap', 'docker', 'podman'] as const) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), `nanoclaw-bench-${name}-`));
    try {
      const { runtime, problems } = await selectRuntime(name, {
        dataDir: path.join(home, 'data'),
        home,
        env: process.env,
        more: RUNTIMES,
      });
      if (!runtime) {
        row(
          'runtimes',
          `${name}: cold start → runner ready`,
          `not measured (${(problems[0] ?? 'unavailable').slice(0, 80)})`,
        );
        continue;
      }
      const xs = await measureColdStart(runtime, { home, samples });
      const target = name === 'bwrap' ? 100 : 600;
      row(
        'runtimes',
        `${name}: cold start → runner ready (p50/p95, n=${samples})`,
        `${ms(pct(xs, 50))} / ${ms(pct(xs, 95))}`,
        `≤ ${target} ms p50`,
        pct(xs, 50) <= target,
      );
    } catch (err) {
      row(
        'runtimes',
        `${name}: cold start → runner ready`,
        `not measured (${String((err as Error).message).slice(0, 80)})`,
      );
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  }
}

/** Ingest through the channel → store path, then catch-up and search on a big store. */
async function storeFigures(fake: FakeAnthropic, ingestCount: number, bigCount: number) {
  const b = await benchHost(fake, {}, { runtime: createEchoRuntime() });
  const local = b.host.channels[0];
  const t0 = performance.now();
  for (let i = 0; i < ingestCount; i++) {
    b.host.receive(
      {
        id: `i${i}`,
        chatJid: `local:room${i % 50}`,
        sender: 's',
        senderName: 'Sam',
        text: `ingest message number ${i} about flights and dinner`,
        timestamp: new Date().toISOString(),
        fromMe: false,
        fromAssistant: false,
      },
      local as Channel,
    );
  }
  const rate = ingestCount / ((performance.now() - t0) / 1000);
  await b.close();
  row(
    'store',
    `ingest: channel → store (${ingestCount.toLocaleString('en')} messages)`,
    `${Math.round(rate).toLocaleString('en')} msg/s`,
    '≥ 10,000 msg/s',
    rate >= 10_000,
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-bench-db-'));
  const store = openStore(path.join(dir, 'messages.db'));
  // A chat-like corpus: a 20,000-word vocabulary with Zipf-distributed use, so
  // common words are common and the words people search for are rarer.
  const vocab = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
  [
    'flights',
    'dinner',
    'Lisbon',
    'meeting',
    'groceries',
    'birthday',
    'train',
    'doctor',
    'weekend',
    'project',
    'holiday',
    'recipe',
  ].forEach((w, i) => {
    vocab[50 + i * 37] = w;
  });
  const cdf: number[] = [];
  let acc = 0;
  for (let r = 1; r <= vocab.length; r++) {
    acc += 1 / r;
    cdf.push(acc);
  }
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const word = () => {
    const x = rand() * acc;
    let lo = 0,
      hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return vocab[lo];
  };
  const sentence = () => Array.from({ length: 6 + Math.floor(rand() * 10) }, word).join(' ');
  const insert = store.db.prepare(
    `INSERT INTO messages (id, chat_jid, sender, sender_name, text, timestamp) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const tLoad = performance.now();
  const batch = 50_000;
  for (let start = 0; start < bigCount; start += batch) {
    store.db.transaction(() => {
      for (let i = start; i < Math.min(bigCount, start + batch); i++) {
        insert.run(
          `m${i}`,
          `chat${i % 500}`,
          `u${i % 40}`,
          `User ${i % 40}`,
          sentence(),
          new Date(1.7e12 + i * 1000).toISOString(),
        );
      }
    })();
  }
  store.indexMessages();
  const loadS = (performance.now() - tLoad) / 1000;
  const chat = 'chat123';
  const last = store.messages.lastSeq(chat);
  const cursorSeq = store.messages.after(chat, 0).slice(-21)[0].seq;
  void last;
  const catchup: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    const pending = store.messages.after(chat, cursorSeq);
    formatCatchUp(pending, 'UTC');
    catchup.push(performance.now() - t);
  }
  const search: number[] = [];
  const groupChats = ['chat1', 'chat2', 'chat3'];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    store.search(i % 2 ? 'what did they say about the flights to Lisbon' : 'birthday recipe', {
      chatJids: i % 3 ? groupChats : undefined,
      limit: 20,
    });
    search.push(performance.now() - t);
  }
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const n = bigCount.toLocaleString('en');
  row('store', `load ${n} messages with full-text index`, `${loadS.toFixed(1)} s`);
  row(
    'store',
    `catch-up of 20 messages at ${n} (p50/p95)`,
    `${ms(pct(catchup, 50))} / ${ms(pct(catchup, 95))}`,
    '≤ 5 ms',
    pct(catchup, 50) <= 5,
  );
  row(
    'store',
    `full-text search at ${n} (p50/p95)`,
    `${ms(pct(search, 50))} / ${ms(pct(search, 95))}`,
    '≤ 50 ms',
    pct(search, 50) <= 50,
  );
}

/** 50 groups × 20 messages at once, real sandboxes and SDK, cap 5. */
async function scale(fake: FakeAnthropic, groups: number, perGroup: number) {
  const b = await benchHost(fake, { MAX_CONCURRENT_AGENTS: '5', IDLE_TIMEOUT: '500' });
  for (let g = 0; g < groups; g++) {
    const res = (await import('../src/core/groups/registration.js')).registerGroup(
      { store: b.host.store, paths: b.host.paths, assistantName: 'Andy' },
      { jid: `local:g${g}`, name: `Group ${g}`, folder: `g${g}`, requiresTrigger: false },
    );
    if (!res.ok) throw new Error(res.error);
  }
  let peakRss = process.memoryUsage().rss;
  let peakAgents = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakAgents = Math.max(peakAgents, b.host.agents.size);
  }, 50);
  const t0 = performance.now();
  for (let i = 0; i < perGroup; i++)
    for (let g = 0; g < groups; g++) b.send(`local:g${g}`, `message ${i} for group ${g}`);
  // Everything answered: each group's cursor reaches its last message.
  const unanswered = (g: number) =>
    b.host.store.messages
      .after(`local:g${g}`, b.host.store.outbox.cursor(`local:g${g}`))
      .filter((m) => !m.fromAssistant).length;
  await waitFor(() => [...Array(groups).keys()].every((g) => unanswered(g) === 0), 900_000);
  const total = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const peakQueue = b.host.queue.peakCount();
  const answered = [...Array(groups).keys()].filter(
    (g) => unanswered(g) === 0 && (b.replies.get(`local:g${g}`) ?? 0) >= 1,
  ).length;
  await b.close();
  row(
    'scale',
    `${groups} groups × ${perGroup} messages, MAX_CONCURRENT_AGENTS=5: groups answered`,
    `${answered}/${groups}`,
    `${groups}/${groups}`,
    answered === groups,
  );
  row(
    'scale',
    'peak agents at once',
    `${Math.max(peakQueue, peakAgents)}`,
    '≤ 5',
    Math.max(peakQueue, peakAgents) <= 5,
  );
  row('scale', 'total time / peak host RSS', `${total.toFixed(1)} s / ${mb(peakRss)}`);
}

/**
 * A chat behind idle agents: five chats answered (their agents idle, waiting for follow-ups, with the default
 * IDLE_TIMEOUT), then a new chat's first answer; and a burst of 10 chats × 3 messages to its last answer.
 */
async function idleSlots(fake: FakeAnthropic, runs: number) {
  const b = await benchHost(fake, { MAX_CONCURRENT_AGENTS: '5', IDLE_TIMEOUT: '300000' });
  const { registerGroup } = await import('../src/core/groups/registration.js');
  const chats = 5 + runs + 10;
  for (let g = 0; g < chats; g++) {
    const res = registerGroup(
      { store: b.host.store, paths: b.host.paths, assistantName: 'Andy' },
      { jid: `local:s${g}`, name: `Chat ${g}`, folder: `s${g}`, requiresTrigger: false },
    );
    if (!res.ok) throw new Error(res.error);
  }
  const answered = (g: number, n = 1) => (b.replies.get(`local:s${g}`) ?? 0) >= n;
  for (let g = 0; g < 5; g++) {
    b.send(`local:s${g}`, `hello ${g}`);
    await waitFor(() => answered(g));
  }
  const times: number[] = [];
  for (let g = 5; g < 5 + runs; g++) {
    const t0 = performance.now();
    b.send(`local:s${g}`, `hello ${g}`);
    await waitFor(() => answered(g), 60_000);
    times.push(performance.now() - t0);
  }
  row(
    'idle slots',
    `a new chat's first answer behind 5 idle agents, p50 / p95 (n=${runs})`,
    `${ms(pct(times, 50))} / ${ms(pct(times, 95))}`,
    '≈ a cold start (< 3 s)',
    pct(times, 95) < 3000,
  );
  const burst = [...Array(10).keys()].map((i) => 5 + runs + i);
  const t0 = performance.now();
  for (let round = 0; round < 3; round++) for (const g of burst) b.send(`local:s${g}`, `message ${round} for ${g}`);
  const unanswered = (g: number) =>
    b.host.store.messages
      .after(`local:s${g}`, b.host.store.outbox.cursor(`local:s${g}`))
      .filter((m) => !m.fromAssistant).length;
  await waitFor(() => burst.every((g) => unanswered(g) === 0), 300_000);
  const took = (performance.now() - t0) / 1000;
  row(
    'idle slots',
    'a burst of 10 chats × 3 messages, until every chat is answered',
    `${took.toFixed(1)} s`,
    '< 6 s',
    took < 6,
  );
  await b.close();
}

/** Resident memory of every process below this one's sandbox runtime children (bwrap and what runs in it). */
function sandboxRss(): { rss: number; boxes: number } {
  const procs = fs.readdirSync('/proc').flatMap((d) => {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(stat)!;
      const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      return [{ pid: Number(d), ppid: Number(rest.split(' ')[1]), comm, rss }];
    } catch {
      return [];
    }
  });
  const roots = procs.filter((p) => p.ppid === process.pid && p.comm === 'bwrap').map((p) => p.pid);
  const inTree = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!inTree.has(p.pid) && inTree.has(p.ppid)) grew = !!inTree.add(p.pid);
  }
  return { rss: procs.filter((p) => inTree.has(p.pid)).reduce((n, p) => n + p.rss, 0), boxes: roots.length };
}

/**
 * The first answer after a quiet spell: cold (no agent); from a warm agent started for it (at start-up, or when someone
 * wrote in the chat), which waited for it; from the chat's own agent, kept waiting when it idled out; and a follow-up to
 * an agent that just answered. Accepted → reply stored. And what each warm agent costs in memory.
 */
async function warmAgents(fake: FakeAnthropic, runs: number) {
  const quietMs = 4000;
  const firstAnswer = async (kind: 'cold' | 'started' | 'kept' | 'follow-up') => {
    const b = await benchHost(fake, {
      NANOCLAW_WARM_AGENTS: kind === 'started' || kind === 'kept' ? '2' : '0',
      IDLE_TIMEOUT: { cold: '0', started: '600000', kept: '1000', 'follow-up': '600000' }[kind],
    });
    const main = () => b.host.agents.get('local:main');
    const answered = () => b.replies.get('local:main') ?? 0;
    if (kind === 'follow-up' || kind === 'kept') {
      b.send('local:main', 'warm-up');
      await waitFor(() => answered() >= 1);
    }
    const times: number[] = [];
    let memory = '';
    for (let i = 0; i < runs; i++) {
      if (kind === 'cold') await waitFor(() => !main());
      // A started one is closed after each answer, so the next is started afresh (as memory changed, say).
      if (kind === 'started' && i > 0) main()?.close();
      // The same quiet spell before each message, once a warm agent waits.
      if (kind === 'started' || kind === 'kept') await waitFor(() => main()?.idleSince === 0);
      await sleep(quietMs);
      if (kind === 'started' && i === 0) {
        // A second warm agent, for a chat someone wrote in, so the figure is an average of two.
        const { registerGroup } = await import('../src/core/groups/registration.js');
        const other = { jid: 'local:other', name: 'Other', folder: 'other', requiresTrigger: true };
        registerGroup({ store: b.host.store, paths: b.host.paths, assistantName: 'Andy' }, other);
        b.send('local:other', 'chatter');
        await waitFor(() => b.host.agents.get('local:other')?.idleSince === 0);
        await sleep(quietMs);
        const { rss, boxes } = sandboxRss();
        memory = `${mb(rss / boxes)} (RSS of its sandbox's processes; ${boxes} measured)`;
      }
      if (kind === 'kept' && i === runs - 1) {
        const { rss, boxes } = sandboxRss();
        memory = `${mb(rss / boxes)} after ${runs} turns (RSS of its sandbox's processes)`;
      }
      const before = answered();
      const seen = b.delivered.length;
      const t0 = performance.now();
      b.send('local:main', `message ${i}`);
      await waitFor(() => answered() > before);
      times.push(performance.now() - t0);
      const got = b.delivered[seen]?.kind;
      if (got !== (kind === 'cold' ? 'cold' : 'warm')) throw new Error(`bench: a ${kind} answer was delivered ${got}`);
    }
    await b.close();
    return { times, memory };
  };
  const cold = await firstAnswer('cold');
  const started = await firstAnswer('started');
  const kept = await firstAnswer('kept');
  const follow = await firstAnswer('follow-up');
  const p = (t: number[]) => `${ms(pct(t, 50))} / ${ms(pct(t, 95))}`;
  const goal = 1.5 * pct(follow.times, 50);
  const target = `≤ 1.5 × a follow-up's p50 (${ms(goal)})`;
  row('warm agents', `first answer, cold start, p50 / p95 (n=${runs})`, p(cold.times));
  row(
    'warm agents',
    `first answer from a warm agent started for the chat (start-up, chatter), p50 / p95 (n=${runs})`,
    p(started.times),
    target,
    pct(started.times, 50) <= goal,
  );
  row(
    'warm agents',
    `first answer from the chat's agent kept when it idled out, p50 / p95 (n=${runs})`,
    p(kept.times),
    target,
    pct(kept.times, 50) <= goal,
  );
  row('warm agents', `a follow-up's answer, p50 / p95 (n=${runs})`, p(follow.times));
  row('warm agents', 'memory per warm agent started for a chat', started.memory);
  row('warm agents', 'memory of an agent kept warm', kept.memory);
}

/** Startup to ready and idle RSS of a real `nanoclaw start` process. */
async function startup(fake: FakeAnthropic) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-bench-start-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(projectRoot(), 'dist/src/cli.js'), 'start'], {
    env: {
      PATH: process.env.PATH,
      NANOCLAW_HOME: home,
      NANOCLAW_HTTP_PORT: '0',
      ANTHROPIC_API_KEY: 'sk-bench',
      ANTHROPIC_BASE_URL: fake.url,
      NANOCLAW_RUNTIME: 'bwrap',
      GLIBC_TUNABLES, // as `npm start` runs it
    },
    stdio: 'ignore',
  });
  await waitFor(() => fs.existsSync(path.join(home, 'data/host.json')), 30_000);
  const ready = performance.now() - t0;
  await sleep(3000);
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  fs.rmSync(home, { recursive: true, force: true });
  row('host', 'startup to ready (fresh home, `nanoclaw start`)', ms(ready));
  row('host', 'idle RSS', mb(rssKb * 1024), '≤ 150 MB', rssKb * 1024 <= 150 * 1024 * 1024);
}

/** RSS after many turns through one warm agent: a leak shows as growth. */
async function manyTurns(fake: FakeAnthropic, turns: number) {
  const b = await benchHost(fake, { IDLE_TIMEOUT: '600000' }, { runtime: createEchoRuntime() });
  const gc = (globalThis as any).gc as (() => void) | undefined;
  const rssAt: number[] = [];
  for (let i = 0; i < turns; i++) {
    const before = b.replies.get('local:main') ?? 0;
    b.send('local:main', `turn ${i}`);
    await waitFor(() => (b.replies.get('local:main') ?? 0) > before);
    if (i === Math.floor(turns / 10) || i === turns - 1) {
      gc?.();
      await sleep(100);
      gc?.();
      rssAt.push(process.memoryUsage().heapUsed);
    }
  }
  await b.close();
  const growth = rssAt[1] - rssAt[0];
  row(
    'host',
    `heap after ${turns.toLocaleString('en')} turns (from turn ${Math.floor(turns / 10).toLocaleString('en')})`,
    `${mb(rssAt[0])} → ${mb(rssAt[1])}`,
    'no growth',
    growth < 10 * 1024 * 1024,
  );
}

/**
 * Pacing spaces bursts only: the first message of a turn to a quiet chat goes
 * out as fast as without pacing. Each turn sends two messages to a new chat;
 * measured is outbox write → channel send call of the first, and the gap to the second.
 */
async function pacing(runs: number) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-bench-pacing-'));
  const store = openStore(path.join(home, 'messages.db'));
  try {
    const cases: [string, ChannelPacing | undefined][] = [
      ['off (local)', undefined],
      ['Telegram', TELEGRAM_PACING],
      ['WhatsApp', WHATSAPP_PACING],
    ];
    for (const [label, p] of cases) {
      const sends = new Map<string, number[]>();
      const channel: Channel = {
        name: `bench-${label}`,
        sharesUserAccount: false,
        pacing: p,
        ownsJid: (jid) => jid.startsWith('fk:'),
        isConnected: () => true,
        async connect() {},
        async disconnect() {},
        async sendMessage(jid) {
          sends.set(jid, [...(sends.get(jid) ?? []), performance.now()]);
        },
      };
      const delivery = createDelivery({
        store,
        channels: () => [channel],
        assistantName: 'Andy',
        logger: silentLogger(),
        onStored: () => {},
      });
      const first: number[] = [];
      const gaps: number[] = [];
      for (let i = 0; i < runs; i++) {
        const jid = `fk:${label.replace(/\W/g, '')}-${i}`;
        const t0 = performance.now();
        store.outbox.enqueue(jid, 'first', { kind: 'tool' });
        store.outbox.enqueue(jid, 'second', { kind: 'tool' });
        delivery.kick();
        await waitFor(() => (sends.get(jid)?.length ?? 0) >= 1);
        first.push(sends.get(jid)![0]! - t0);
        if (i === 0) {
          await waitFor(() => (sends.get(jid)?.length ?? 0) >= 2, 10_000);
          gaps.push(sends.get(jid)![1]! - sends.get(jid)![0]!);
        }
      }
      delivery.stop();
      row(
        'delivery',
        `pacing ${label}: first message of a turn, outbox → send (p50/p95, n=${runs})`,
        `${ms(pct(first, 50))} / ${ms(pct(first, 95))}`,
        '≤ 5 ms p50',
        pct(first, 50) <= 5,
      );
      row(
        'delivery',
        `pacing ${label}: gap before the second message to that chat`,
        ms(gaps[0]!),
        p ? `≥ ${p.perChatMs} ms` : '',
        p ? gaps[0]! >= p.perChatMs : undefined,
      );
    }
  } finally {
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** Per channel: accepted by its crabline provider server → reply recorded by it, warm agent. */
async function channels(fake: FakeAnthropic, runs: number) {
  for (const [name, measure] of [
    ['Telegram', telegramLatency],
    ['WhatsApp', whatsappLatency],
  ] as const) {
    const { samples } = await measure(fake, runs);
    row(
      `${name} (crabline)`,
      `accepted → reply recorded by the provider (p50/p95, n=${runs})`,
      `${ms(pct(samples, 50))} / ${ms(pct(samples, 95))}`,
    );
  }
}

async function main() {
  const fake = await startFakeAnthropic(() => ({ text: 'ok' }));
  const want = (name: string) => !only || only.includes(name);
  process.stderr.write(`NanoClaw bench${quick ? ' (quick)' : ''}\n`);
  try {
    if (want('overhead')) await overhead(fake, 'echo', quick ? 20 : 50);
    if (want('overhead')) await overhead(fake, 'bwrap', quick ? 10 : 30);
    if (want('runtimes')) await runtimes(quick ? 5 : 20);
    if (want('pacing')) await pacing(quick ? 5 : 12);
    if (want('gateway')) await gatewayLatency(quick ? 100 : 300);
    if (want('store')) await storeFigures(fake, quick ? 20_000 : 100_000, quick ? 100_000 : 1_000_000);
    if (want('scale')) await scale(fake, quick ? 10 : 50, quick ? 5 : 20);
    if (want('slots')) await idleSlots(fake, quick ? 5 : 20);
    if (want('warm')) await warmAgents(fake, quick ? 5 : 20);
    if (want('startup')) await startup(fake);
    if (want('idle')) await (await import('./idle-weight.js')).benchIdleWeight({ fake, row, quick });
    if (want('turns')) await manyTurns(fake, quick ? 1000 : 10_000);
    if (want('channels')) await channels(fake, quick ? 5 : 20);
    if (want('channels'))
      await (await import('./channel-discord.js')).benchDiscord({ fake, runs: quick ? 5 : 20, row });
    if (want('channels')) await (await import('./channel-slack.js')).slackLatency({ fake, runs: quick ? 5 : 20, row });
    if (want('voice')) await (await import('./voice.js')).benchVoice(row, quick);
    if (want('email')) await (await import('./email.js')).benchEmail(row, quick);
    if (want('channels'))
      await (await import('./channel-signal.js')).benchSignal({ fake, row, pct, ms, runs: quick ? 10 : 30 });
  } finally {
    await fake.close();
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
  const table = [
    '| area | metric | value | target | met |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.area} | ${r.metric} | ${r.value} | ${r.target} | ${r.met} |`),
  ].join('\n');
  process.stdout.write(`\n${table}\n\nMachine: ${machine}\n`);
  if (write) {
    const file = path.join(projectRoot(), 'docs', 'BENCHMARKS.md');
    const notesFile = path.join(projectRoot(), 'docs', 'benchmark-notes.md');
    const notes = fs.existsSync(notesFile) ? `\n${fs.readFileSync(notesFile, 'utf8')}` : '';
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      `# Benchmarks\n\nMeasured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.\n\nMachine: ${machine}\n\n${table}\n${notes}`,
    );
    process.stderr.write(`wrote ${file}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
