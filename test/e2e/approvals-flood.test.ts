// "Hold the line", end to end: real host, real bwrap sandbox, real Agent SDK,
// fake model. The agent's Bash opens connections through the egress proxy; we
// count what the owner would see in the main chat (through the local API) and
// what the agent was told (the command's output in its reply).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBashEnv, startEchoServer, type BashEnv } from '../isolation/support.js';

// No test sends a DNS query off this machine: names answer from here.
const dns = (host: string): string[] => {
  if (/^h\d+\.flood\.test$/.test(host)) return ['93.184.215.14'];
  if (host === 'nas.flood.test') return ['192.168.1.20'];
  if (host === 'box.flood.test') return ['127.0.0.1'];
  throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
};

let env: BashEnv;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
const PROXY = `--noproxy '' -x "http://127.0.0.1:$NANOCLAW_LOCAL_PORT"`;

beforeAll(async () => {
  echo = await startEchoServer();
  // A long wait after a "no", so the test sees it whatever the machine's speed.
  env = await startBashEnv('bwrap', { NANOCLAW_APPROVAL_COOLDOWN_MS: '600000' }, { resolve: async (h) => dns(h) });
});
afterAll(async () => {
  await env?.close();
  await echo?.close();
});

const asks = (ms: any[]) =>
  ms.filter((m) => m.fromAssistant && /^Approval needed/.test(m.text)).map((m) => m.text as string);
const refusedCounts = (ms: any[]) =>
  ms
    .filter((m) => m.fromAssistant)
    .map((m) => /^Refused without asking you: (\d+) more request/.exec(m.text)?.[1])
    .filter(Boolean)
    .map(Number);
const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);

test('30 new hosts in one Bash call: 3 requests reach the owner, one line counts the rest, the agent sees every refusal', async () => {
  const jid = env.addGroup('flood', { egress: 'allowlist' });
  const reply = env.bash(
    jid,
    [
      'cd /workspace/group',
      `for i in $(seq 1 30); do curl -s ${PROXY} -o out-$i.txt http://h$i.flood.test/ & done; wait`,
      'echo "refused=$(grep -l "NanoClaw refused" out-*.txt | wc -l)"',
      'echo "full=$(grep -l "already wait for the owner" out-*.txt | wc -l)"',
      'echo "declined=$(grep -l "The owner declined" out-*.txt | wc -l)"',
      'cat out-30.txt',
    ].join('; '),
  );
  // Every one of the 27 is counted before the owner answers anything.
  const seen = await env.untilChat(
    'local:main',
    (ms) => sum(refusedCounts(ms)) >= 27,
    90_000,
    'the refusals counted for the owner',
  );
  expect(sum(refusedCounts(seen))).toBe(27);
  expect(refusedCounts(seen).length).toBeLessThanOrEqual(2); // one line per burst, not one per refusal
  expect(asks(seen)).toHaveLength(3);
  for (const text of asks(seen)) {
    const code = /code ([A-Z2-9]{4})/.exec(text)![1];
    const res = await env.api('/api/chats/local%3Amain/messages', {
      method: 'POST',
      json: { sender: 'local-user', text: `no ${code}` },
    });
    expect(res.status).toBe(202);
  }
  const text = await reply;
  expect(text).toContain('refused=30');
  expect(text).toContain('full=27');
  expect(text).toContain('declined=3');
  expect(asks(await env.messages('local:main'))).toHaveLength(3);

  // Asking again right after the "no": refused without a request, and the agent is told how long to wait.
  const again = await env.bash(jid, `curl -s ${PROXY} http://h31.flood.test/`);
  expect(again).toMatch(
    /NanoClaw refused h31\.flood\.test:80: .*Not asked: the owner recently said no to this chat, so it may not ask again for \d+ s/s,
  );
  const after = await env.untilChat(
    'local:main',
    (ms) => sum(refusedCounts(ms)) >= 28,
    60_000,
    'the late refusal counted',
  );
  expect(asks(after)).toHaveLength(3);
  expect(after.at(-1).text).toMatch(/1 too soon after your "no"/);
}, 240_000);

test('the host\'s own API port is refused even when the settings and an "always" list it; nothing is asked', async () => {
  const apiPort = Number(new URL(env.host.url).port);
  const jid = env.addGroup('ownport', {
    egress: 'allowlist',
    egressAllowlist: [`127.0.0.1:${apiPort}`, `localhost:${apiPort}`],
    approvals: { allow: [{ kind: 'network', detail: `localhost:${apiPort}` }] },
  });
  const before = asks(await env.messages('local:main')).length;
  const text = await env.bash(
    jid,
    [
      `echo "ip=$(curl -s ${PROXY} http://127.0.0.1:${apiPort}/healthz)"`,
      `echo "name=$(curl -s ${PROXY} http://localhost:${apiPort}/healthz)"`,
      `echo "tls=$(curl -s -o /dev/null -w '%{http_connect}' ${PROXY} https://localhost:${apiPort}/)"`,
    ].join('; '),
  );
  expect(text).toContain(
    `ip=NanoClaw refused 127.0.0.1:${apiPort}: 127.0.0.1:${apiPort} is NanoClaw's own port on the owner's machine`,
  );
  expect(text).toContain(
    `name=NanoClaw refused localhost:${apiPort}: localhost resolves to 127.0.0.1:${apiPort} is NanoClaw's own port`,
  );
  expect(text).toContain('tls=403');
  expect(text).not.toMatch(/"ok"|healthy/i);
  expect(asks(await env.messages('local:main'))).toHaveLength(before);
}, 120_000);

test('a name resolving to a private address is refused without a request, the owner told plainly; the settings can allow one', async () => {
  const jid = env.addGroup('lan', {
    egress: 'allowlist',
    egressAllowlist: [`box.flood.test:${echo.port}`, `127.0.0.1:${echo.port}`],
  });
  const before = asks(await env.messages('local:main')).length;
  const text = await env.bash(
    jid,
    [
      `echo "nas=$(curl -s ${PROXY} http://nas.flood.test:8123/)"`,
      `echo "box=$(curl -s ${PROXY} http://box.flood.test:${echo.port}/)"`,
    ].join('; '),
  );
  expect(text).toContain(
    "nas=NanoClaw refused nas.flood.test:8123: nas.flood.test (192.168.1.20) is the owner's own network",
  );
  expect(text).toContain("in this chat's settings");
  expect(text).toContain('box=echo-ok');
  const main = await env.untilChat(
    'local:main',
    (ms) =>
      ms.some((m) => m.fromAssistant && /^The agent in "lan" tried to reach your own machine or network/.test(m.text)),
    60_000,
    'the owner told plainly',
  );
  expect(main.find((m) => /^The agent in "lan"/.test(m.text)).text).toContain('nas.flood.test:8123');
  expect(asks(main)).toHaveLength(before);
}, 120_000);

/** Runs the built `nanoclaw` command against this host. */
function nanoclaw(args: string[]): Promise<{ code: number | null; out: string }> {
  fs.writeFileSync(path.join(env.home, 'data', 'host.json'), JSON.stringify({ url: env.host.url, pid: process.pid }));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve('dist/src/cli.js'), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), NANOCLAW_HOME: env.home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('`nanoclaw groups network` is where an address on your network is allowed, and the sandbox then reaches it', async () => {
  const jid = env.addGroup('lan2', { egress: 'allowlist' });
  const set = await nanoclaw([
    'groups',
    'network',
    'lan2',
    '--allow',
    `box.flood.test:${echo.port},127.0.0.1:${echo.port}`,
  ]);
  expect(set.code).toBe(0);
  expect(set.out).toContain(`allowed destinations: box.flood.test:${echo.port}, 127.0.0.1:${echo.port}`);
  expect(env.host.store.groups.get(jid)!.sandbox.egressAllowlist).toEqual([
    `box.flood.test:${echo.port}`,
    `127.0.0.1:${echo.port}`,
  ]);
  expect(await env.bash(jid, `curl -s ${PROXY} http://box.flood.test:${echo.port}/`)).toContain('echo-ok');
  const removed = await nanoclaw(['groups', 'network', 'lan2', '--remove', `127.0.0.1:${echo.port}`]);
  expect(removed.out).toContain(`allowed destinations: box.flood.test:${echo.port}\n`);
  expect(await env.bash(jid, `curl -s ${PROXY} http://box.flood.test:${echo.port}/`)).toContain(
    "is the owner's own machine",
  );
}, 120_000);
