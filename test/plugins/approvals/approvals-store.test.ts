// Approvals without a sandbox: one outcome per request, codes bound to their
// request, the decisions the host makes, and the egress proxy holding a new
// host until the owner answers (real store, real gateway, real HTTP servers).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  classifyRunnerTool,
  createApprovals,
  isOwnerAnswer,
  matchesBashPattern,
  type Action,
  type ApprovalsDeps,
  type Outcome,
} from '../../../src/plugins/approvals/approvals.js';
import { homePaths } from '../../../src/core/config/home.js';
import { noApprover, type Approver } from '../../../src/core/ask.js';
import { createGateway, type EndpointHandlers, type Identity } from '../../../src/core/gateway/gateway.js';
import { createEgress } from '../../../src/plugins/egress/index.js';
import { ownPorts, type Resolver } from '../../../src/plugins/egress/policy.js';
import { silentLogger } from '../../../src/core/logger.js';
import { CODE_ALPHABET, approvalQueries } from '../../../src/plugins/approvals/store.js';
import { openDatabase } from '../../../src/core/store/db.js';
import { createStore } from '../../../src/host.js';
import type { Store } from '../../../src/core/store/index.js';
import type { Message, RegisteredGroup } from '../../../src/core/types.js';

let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-approvals-'));
  fs.mkdirSync(path.join(home, 'groups', 'main'), { recursive: true });
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

function group(jid: string, folder: string, extra: Partial<RegisteredGroup> = {}): RegisteredGroup {
  return {
    jid,
    name: folder,
    folder,
    trigger: '@Andy',
    requiresTrigger: false,
    isMain: false,
    sandbox: {},
    addedAt: new Date().toISOString(),
    ...extra,
  };
}

function setup(
  timeoutMs = 60_000,
  extra: Partial<ApprovalsDeps> = {},
): { store: Store; approvals: ReturnType<typeof createApprovals>; posted: string[]; nextPost: () => Promise<string> } {
  const store = createStore(openDatabase(':memory:'));
  store.groups.insert(group('local:main', 'main', { isMain: true }));
  store.groups.insert(
    group('local:fam', 'fam', {
      sandbox: { approvals: { policy: { bash: 'ask' }, bashPatterns: ['rm', 'git push'] } },
    }),
  );
  const posted: string[] = [];
  const listeners: ((t: string) => void)[] = [];
  const approvals = createApprovals({
    store,
    paths: homePaths(home),
    logger: silentLogger(),
    timeoutMs,
    postToMain: (t) => {
      posted.push(t);
      listeners.splice(0).forEach((l) => l(t));
    },
    ...extra,
  });
  /** The next message the owner is sent (an event, not a poll). */
  const nextPost = () => new Promise<string>((r) => listeners.push(r));
  return { store, approvals, posted, nextPost };
}
/** A gateway whose sandbox network is the egress plugin's, asking the owner through these approvals. */
function gatewayAsking(store: Store, approvals: ReturnType<typeof createApprovals>, resolve: Resolver) {
  const approver: Pick<Approver, 'check' | 'noteOwnNetwork'> = {
    check: approvals.check,
    noteOwnNetwork: (group, target) => {
      const i = target.lastIndexOf(':');
      const identity: Identity = { groupFolder: group.folder, chatJid: group.jid, isMain: group.isMain, taskId: null };
      approvals.forGateway.ownNetwork(identity, target.slice(0, i), Number(target.slice(i + 1)));
    },
  };
  const own = new Set<number>();
  return createGateway({
    upstream: 'http://127.0.0.1:9',
    credential: () => null,
    logger: silentLogger(),
    ownPorts: own,
    hooks: [
      createEgress({
        groupOf: (jid) => store.groups.get(jid),
        approver,
        own: ownPorts(own),
        resolve,
        logger: silentLogger(),
      }),
    ],
    approver: noApprover(() => undefined),
  });
}
const codeOf = (text: string) => /code ([A-Z2-9]{4})/.exec(text)![1];
const rm = {
  kind: 'bash' as const,
  detail: 'rm -rf /workspace/extra/photos',
  what: 'run a Bash command',
  reason: 'tidy up',
};

test('one outcome per request: the first conditional update wins and every later one changes nothing', () => {
  let now = Date.parse('2026-05-01T10:00:00Z');
  const q = approvalQueries(createStore(openDatabase(':memory:')).db, () => now);
  const r = q.create({
    groupFolder: 'fam',
    chatJid: 'local:fam',
    kind: 'bash',
    detail: 'rm x',
    reason: '',
    timeoutMs: 1000,
  });
  expect(r.code).toMatch(new RegExp(`^[${CODE_ALPHABET}]{4}$`));
  expect(r).toMatchObject({ status: 'pending', decidedBy: null });
  now += 10;
  expect(q.decide(r.id, 'approved', 'owner')).toBe(true);
  expect(q.decide(r.id, 'expired', 'timeout')).toBe(false);
  expect(q.decide(r.id, 'denied', 'owner')).toBe(false);
  expect(q.get(r.id)).toMatchObject({ status: 'approved', decidedBy: 'owner' });
  expect(q.pendingByCode(r.code)).toBeUndefined();
  const left = q.create({
    groupFolder: 'fam',
    chatJid: 'local:fam',
    kind: 'bash',
    detail: 'rm y',
    reason: '',
    timeoutMs: 1000,
  });
  expect(q.denyAllPending('restart')).toBe(1);
  expect(q.get(left.id)).toMatchObject({ status: 'denied', decidedBy: 'host', note: 'restart' });
  expect(q.history().map((h) => h.id)).toEqual([left.id, r.id]);
});

test("the owner's answer decides its own request only; a second answer and the timeout after it change nothing", async () => {
  const { store, approvals, posted } = setup(50);
  const fam = store.groups.get('local:fam')!;
  const a = approvals.check(fam, rm);
  const b = approvals.check(fam, { ...rm, detail: 'git push origin main' });
  expect(posted).toHaveLength(2);
  expect(posted[0]).toContain('rm -rf /workspace/extra/photos');
  expect(posted[0]).toContain('Why: tidy up');
  const [codeA, codeB] = posted.map(codeOf);
  expect(approvals.answer(codeA, 'yes', 'owner').ok).toBe(true);
  expect(approvals.answer(codeA, 'no', 'owner').ok).toBe(false);
  expect(await a).toEqual({ approved: true, message: 'The owner approved this.' });
  const late: Outcome = await b; // B had no answer: its timeout decides it
  expect(late.approved).toBe(false);
  expect(late.message).toMatch(/^Timed out after 0 s/);
  expect(approvals.answer(codeB, 'yes', 'owner').ok).toBe(false);
  expect(
    store.approvals
      .history()
      .map((r) => r.status)
      .sort(),
  ).toEqual(['approved', 'expired']);
});

test('allow, deny and always: no request for allow or an always rule, an immediate no for deny', async () => {
  const { store, approvals, posted } = setup();
  const fam = store.groups.get('local:fam')!;
  const asked = approvals.check(fam, rm);
  approvals.answer(codeOf(posted[0]), 'always', 'owner');
  expect((await asked).approved).toBe(true);
  const after = store.groups.get('local:fam')!;
  expect(after.sandbox.approvals?.allow).toEqual([{ kind: 'bash', detail: rm.detail }]);
  expect(await approvals.check(after, rm)).toMatchObject({ approved: true });
  expect(posted).toHaveLength(1);
  // A different command is a different action: asked again.
  void approvals.check(after, { ...rm, detail: rm.detail + ' /etc' });
  expect(posted).toHaveLength(2);
  const denying = group('local:x', 'x', { sandbox: { approvals: { policy: { bash: 'deny' } } } });
  expect((await approvals.check(denying, rm)).message).toMatch(/approvals\.policy\.bash is "deny"/);
  expect(posted).toHaveLength(2);
  approvals.stop();
});

test('what counts: Bash patterns as whole words, writes under /workspace/extra, host tools only from main', () => {
  expect(matchesBashPattern('rm -rf x', ['rm'])).toBe(true);
  expect(matchesBashPattern('cd a && rm x', ['rm'])).toBe(true);
  expect(matchesBashPattern('format disk; npm run perform', ['rm'])).toBe(false);
  expect(matchesBashPattern('git  push origin', ['git push'])).toBe(true);
  expect(matchesBashPattern('git pull', ['git push'])).toBe(false);
  const g = group('local:fam', 'fam', { sandbox: { approvals: { bashPatterns: ['rm'] } } });
  expect(classifyRunnerTool(g, 'Bash', { command: 'ls' })).toBeNull();
  expect(classifyRunnerTool(g, 'Bash', { command: 'echo hi > /workspace/extra/photos/x' })).toBeNull(); // no writable mount
  const rw = {
    ...g,
    sandbox: { ...g.sandbox, extraMounts: [{ hostPath: '/srv/photos', containerPath: 'photos', readonly: false }] },
  };
  // On "ask" (the default) the host folder is staged and its change set asked about: the words decide nothing.
  expect(classifyRunnerTool(rw, 'Bash', { command: 'echo hi > /workspace/extra/photos/x' })).toBeNull();
  expect(classifyRunnerTool(g, 'Write', { file_path: '../extra/photos/a.txt' })).toBeNull();
  // On "deny" the folder is mounted read-only; a Write there is refused up front, with words.
  const deny = { approvals: { ...rw.sandbox.approvals, policy: { mount_write: 'deny' as const } } };
  const denied = { ...rw, sandbox: { ...rw.sandbox, ...deny } };
  expect(classifyRunnerTool(denied, 'Bash', { command: 'echo hi > /workspace/extra/photos/x' })).toMatchObject({
    kind: 'mount_write',
  });
  expect(classifyRunnerTool(denied, 'Write', { file_path: '/workspace/group/a.txt' })).toBeNull();
  expect(classifyRunnerTool(denied, 'Write', { file_path: '../extra/photos/a.txt' })).toMatchObject({
    kind: 'mount_write',
    detail: 'Write /workspace/extra/photos/a.txt',
  });
  expect(classifyRunnerTool(denied, 'Edit', { file_path: '/workspace/group/../extra/x' })?.kind).toBe('mount_write');
});

test("only the owner's own message in a main chat is an answer", () => {
  const msg = (over: Partial<Message>): Message => ({
    id: '1',
    chatJid: 'local:main',
    sender: 'local-user',
    senderName: 'Me',
    text: 'yes 4F7K',
    timestamp: new Date().toISOString(),
    fromMe: true,
    fromAssistant: false,
    ...over,
  });
  const main = group('local:main', 'main', { isMain: true });
  expect(isOwnerAnswer(main, msg({}))).toBe(true);
  expect(isOwnerAnswer(main, msg({ text: 'Always 4f7k.' }))).toBe(true);
  expect(isOwnerAnswer(main, msg({ fromMe: false, sender: 'user-Mallory' }))).toBe(false);
  expect(isOwnerAnswer(group('local:fam', 'fam'), msg({}))).toBe(false);
  expect(isOwnerAnswer(main, msg({ text: 'yes 4F7K please do rm' }))).toBe(false);
});

test('the egress proxy holds a host off the list until the owner answers: yes goes through, no is a 403 that says why', async () => {
  const { store, approvals, posted } = setup(60_000, { cooldownMs: 0 });
  const upstream = http.createServer((_req, res) => res.end('hello from upstream'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  // The test's server is on loopback: only the settings may allow that address; the name is what the owner is asked about.
  store.groups.update({
    ...store.groups.get('local:fam')!,
    sandbox: { egress: 'allowlist', egressAllowlist: [`127.0.0.1:${port}`] },
  });
  const gw = gatewayAsking(store, approvals, async (h) => (h === 'shop.test' ? ['127.0.0.1'] : []));
  const identity: Identity = { groupFolder: 'fam', chatJid: 'local:fam', isMain: false, taskId: null };
  const handlers = {} as EndpointHandlers;
  const sock = path.join(home, 'gw.sock');
  const ep = await gw.openEndpoint(sock, identity, handlers);
  const get = () =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { socketPath: sock, method: 'GET', path: `http://shop.test:${port}/x`, headers: { host: `shop.test:${port}` } },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const untilPosted = async (n: number) => {
    while (posted.length < n) await new Promise((r) => setImmediate(r));
  };
  try {
    const first = get();
    await untilPosted(1);
    expect(posted[0]).toContain(`shop.test:${port}`);
    approvals.answer(codeOf(posted[0]), 'yes', 'owner');
    expect(await first).toEqual({ status: 200, body: 'hello from upstream' });

    const second = get();
    await untilPosted(2);
    approvals.answer(codeOf(posted[1]), 'no', 'owner');
    const refused = await second;
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/not allowed by this group's network policy.*The owner declined/s);

    const third = get();
    await untilPosted(3);
    approvals.answer(codeOf(posted[2]), 'always', 'owner');
    expect((await third).status).toBe(200);
    expect((await get()).status).toBe(200);
    expect(posted).toHaveLength(3);
  } finally {
    await ep.close();
    upstream.close();
  }
});

const reach = (host: string, port = 443): Action => ({
  kind: 'network',
  detail: `${host}:${port}`,
  what: `reach ${host}:${port}`,
});

test('one turn cannot bury the owner: 3 wait at most, identical ones join them, the rest are refused at once and told in one line', async () => {
  const { store, approvals, posted, nextPost } = setup(60_000, { summaryMs: 20 });
  const fam = store.groups.get('local:fam')!;
  const outcomes = Array.from({ length: 30 }, (_, i) => approvals.check(fam, reach(`h${i}.test`)));
  const twin = approvals.check(fam, reach('h0.test'));
  expect(posted).toHaveLength(3);
  for (const o of await Promise.all(outcomes.slice(3)))
    expect(o).toMatchObject({
      approved: false,
      message: expect.stringMatching(/^Not asked: 3 requests from this chat already wait/),
    });
  const summary = await nextPost();
  expect(summary).toBe(
    'Refused without asking you: 27 more requests from the agent in "fam" (27 while 3 already waited for you).',
  );
  expect(posted).toHaveLength(4);
  // The identical request was the same request: one yes answers both.
  expect(approvals.answer(codeOf(posted[0]), 'yes', 'owner').ok).toBe(true);
  expect(await outcomes[0]).toMatchObject({ approved: true });
  expect(await twin).toMatchObject({ approved: true });
  expect(store.approvals.history().filter((r) => r.detail === 'h0.test:443')).toHaveLength(1);
  // One answered, so one more may wait.
  void approvals.check(fam, reach('h30.test'));
  expect(posted).toHaveLength(5);
  approvals.stop();
});

test('after a "no" the chat waits before asking again, longer each time it keeps asking; a yes ends the wait', async () => {
  let now = Date.parse('2026-05-01T10:00:00Z');
  const { store, approvals, posted, nextPost } = setup(60_000, { cooldownMs: 30_000, now: () => now, summaryMs: 20 });
  const fam = store.groups.get('local:fam')!;
  const ask = (n: number) => approvals.check(fam, { ...rm, detail: `rm file-${n}` });
  const first = ask(1);
  const alsoWaiting = ask(2);
  approvals.answer(codeOf(posted[0]), 'no', 'owner');
  approvals.answer(codeOf(posted[1]), 'no', 'owner'); // asked before the first no: not one more strike
  expect((await first).approved).toBe(false);
  expect((await alsoWaiting).approved).toBe(false);
  const soon = await ask(3);
  expect(soon).toMatchObject({
    approved: false,
    message: expect.stringMatching(/may not ask again for 30 s \(until 10:00:30 UTC\)/),
  });
  expect(posted).toHaveLength(2);
  expect(await nextPost()).toMatch(/1 more request from the agent in "fam" \(1 too soon after your "no"\)/);

  now += 30_001;
  const later = ask(4);
  expect(posted).toHaveLength(4);
  approvals.answer(codeOf(posted[3]), 'no', 'owner');
  await later;
  expect((await ask(5)).message).toMatch(/may not ask again for 60 s/);

  now += 60_001;
  const third = ask(6);
  approvals.answer(codeOf(posted.at(-1)!), 'yes', 'owner');
  expect((await third).approved).toBe(true);
  void ask(7);
  expect(posted.at(-1)).toMatch(/^Approval needed .*rm file-7/s);
  approvals.stop();
});

test("the proxy never asks about the owner's own machine or network, and tells the owner plainly", async () => {
  const { store, approvals, posted, nextPost } = setup(2_000, { summaryMs: 20 });
  store.groups.update({ ...store.groups.get('local:fam')!, sandbox: { egress: 'allowlist' } });
  const dns: Record<string, string[]> = { 'nas.test': ['192.168.1.20'], 'rebind.test': ['127.0.0.1'] };
  const gw = gatewayAsking(store, approvals, async (h) => dns[h] ?? []);
  const identity: Identity = { groupFolder: 'fam', chatJid: 'local:fam', isMain: false, taskId: null };
  const sock = path.join(home, 'gw-own.sock');
  const ep = await gw.openEndpoint(sock, identity, {} as EndpointHandlers);
  const get = (target: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { socketPath: sock, method: 'GET', path: `http://${target}/x`, headers: { host: target } },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  try {
    const told = nextPost();
    for (const [target, words] of [
      ['localhost:3000', "the owner's own machine"],
      ['rebind.test:8080', "the owner's own machine"],
      ['nas.test:8123', "the owner's own network"],
    ]) {
      const res = await get(target);
      expect(res.status, target).toBe(403);
      expect(res.body, target).toContain(words);
      expect(res.body, target).toContain("this chat's settings");
    }
    expect(await told).toMatch(
      /^The agent in "fam" tried to reach your own machine or network \(localhost:3000, rebind.test:8080, nas.test:8123\); refused without asking you/,
    );
    expect(posted.filter((t) => t.startsWith('Approval needed'))).toHaveLength(0);
  } finally {
    await ep.close();
    approvals.stop();
  }
});
