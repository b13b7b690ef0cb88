// The egress policy's decisions, without a sandbox: what each policy lets through
// and what it refuses before any connection or lookup. Then, with a live
// sandbox: a policy changed while it runs applies to its next connection.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { noApprover } from '../../src/core/ask.js';
import { createGateway, type EndpointHandlers } from '../../src/core/gateway/gateway.js';
import type { PluginCore } from '../../src/core/plugin.js';
import type { RegisteredGroup, SandboxSettings } from '../../src/core/types.js';
import { egress } from '../../src/plugins/egress/index.js';
import { decideEgress, egressRules, isPublicAddress, parseHostPort } from '../../src/plugins/egress/policy.js';
import { tcpEndpoint } from '../../src/plugins/containers/tcp-endpoint.js';
import { silentLogger } from '../../src/core/logger.js';
import { until } from '../support/harness.js';
import { connectThrough, RUNTIMES, startBashEnv, startEchoServer, type BashEnv } from './support.js';

// A fake DNS: no test may send a query off this machine.
const dns: Record<string, string[]> = {
  'example.com': ['93.184.215.14'],
  'docs.example.com': ['93.184.215.15'],
  'rebind.example.com': ['127.0.0.1'],
  'lan.example.com': ['192.168.1.20'],
  'metadata.example.com': ['169.254.169.254'],
};
const resolve = async (host: string) => {
  const a = dns[host];
  if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return a;
};
const lookups: string[] = [];
const countingResolve = async (host: string) => {
  lookups.push(host);
  return resolve(host);
};

/**
 * A gateway with the egress plugin set up on a core that has just these groups' settings,
 * read from the store at each connection as the host's would be.
 */
function gatewayWithEgress(settings: Record<string, SandboxSettings>, upstream = 'http://127.0.0.1:9') {
  const ownPorts = new Set<number>();
  const group = (jid: string) =>
    settings[jid]
      ? ({ jid, folder: jid.slice(6), isMain: false, sandbox: settings[jid] } as RegisteredGroup)
      : undefined;
  const core = {
    config: { anthropicBaseUrl: upstream },
    store: { groups: { get: group } },
    logger: silentLogger(),
    approver: noApprover(() => undefined),
    ownPorts,
    resolve,
  } as unknown as PluginCore;
  const parts = egress.setup!(core);
  const hooks = parts && 'gateway' in parts && parts.gateway ? [parts.gateway] : [];
  const gateway = createGateway({
    upstream,
    credential: () => null,
    logger: silentLogger(),
    ownPorts,
    hooks,
    approver: noApprover(() => undefined),
  });
  return { gateway, ownPorts };
}

describe('egress policy', () => {
  test('none refuses everything through the proxy', async () => {
    const d = await decideEgress(egressRules({ egress: 'none' }), 'example.com', 443, resolve);
    expect(d.allow).toBe(false);
    if (!d.allow) expect(d.reason).toMatch(/"none"/);
  });

  test('allowlist lets through listed hosts only, refusing others by name without a lookup', async () => {
    const rules = egressRules({ egress: 'allowlist', egressAllowlist: ['*.example.com', 'api.github.com:443'] });
    expect((await decideEgress(rules, 'docs.example.com', 443, resolve)).allow).toBe(true);
    expect((await decideEgress(rules, 'example.com', 80, resolve)).allow).toBe(true);
    expect((await decideEgress(rules, 'docs.example.com', 22, resolve)).allow).toBe(false);
    lookups.length = 0;
    const other = await decideEgress(rules, 'evil.test', 443, countingResolve);
    expect(other.allow).toBe(false);
    expect(lookups).toEqual([]);
  });

  test('the default allows the web by name on 80 and 443, nothing else', async () => {
    const rules = egressRules({});
    expect((await decideEgress(rules, 'example.com', 443, resolve)).allow).toBe(true);
    expect((await decideEgress(rules, 'example.com', 80, resolve)).allow).toBe(true);
    expect((await decideEgress(rules, 'example.com', 25, resolve)).allow).toBe(false);
  });

  test('raw IPs are refused under every policy unless listed exactly', async () => {
    for (const egress of ['open', 'allowlist', undefined] as const) {
      const d = await decideEgress(egressRules({ egress, egressAllowlist: ['*'] }), '93.184.215.14', 443, resolve);
      expect(d.allow).toBe(false);
      if (!d.allow) expect(d.reason).toMatch(/raw IP/);
    }
    expect(
      (
        await decideEgress(
          egressRules({ egress: 'allowlist', egressAllowlist: ['93.184.215.14:443'] }),
          '93.184.215.14',
          443,
          resolve,
        )
      ).allow,
    ).toBe(true);
  });

  test('names that resolve to loopback, LAN or metadata addresses are refused, even under open', async () => {
    for (const host of ['rebind.example.com', 'lan.example.com', 'metadata.example.com', 'localhost']) {
      const d = await decideEgress(egressRules({ egress: 'open' }), host, 443, resolve);
      expect(d.allow, host).toBe(false);
    }
  });

  test('loopback is reachable only through an exact allowlist entry (how tests reach their own servers)', async () => {
    const rules = egressRules({ egress: 'allowlist', egressAllowlist: ['127.0.0.1:8080'] });
    const ok = await decideEgress(rules, '127.0.0.1', 8080, resolve);
    expect(ok).toMatchObject({ allow: true, address: '127.0.0.1' });
    expect((await decideEgress(rules, '127.0.0.1', 8081, resolve)).allow).toBe(false);
    expect(
      await decideEgress(
        egressRules({ egress: 'allowlist', egressAllowlist: ['localhost:8080'] }),
        'localhost',
        8080,
        resolve,
      ),
    ).toMatchObject({ allow: true, address: '127.0.0.1' });
  });

  test("the host's own ports are refused on every local address, even when the settings list them", async () => {
    const own = { ports: new Set([5555]), addresses: () => ['10.9.8.7'] };
    const listed = ['127.0.0.1:5555', 'localhost:5555', '10.9.8.7:5555', '0.0.0.0:5555', 'rebind.example.com:5555'];
    const rules = egressRules({ egress: 'allowlist', egressAllowlist: listed });
    for (const host of ['127.0.0.1', 'localhost', '10.9.8.7', '0.0.0.0', 'rebind.example.com']) {
      const d = await decideEgress(rules, host, 5555, resolve, own);
      expect(d.allow, host).toBe(false);
      if (!d.allow) expect(d.reason, host).toMatch(/NanoClaw's own port on the owner's machine/);
    }
    // Another port on loopback, listed in the settings, is the owner's choice.
    const other = egressRules({ egress: 'allowlist', egressAllowlist: ['127.0.0.1:5556'] });
    expect((await decideEgress(other, '127.0.0.1', 5556, resolve, own)).allow).toBe(true);
  });

  test('an answer ("always") never allows loopback or a private address; it says whose machine or network it is', async () => {
    const answered = (detail: string) =>
      egressRules({ egress: 'allowlist', approvals: { allow: [{ kind: 'network', detail }] } });
    for (const [host, port, words] of [
      ['localhost', 3000, "localhost (127.0.0.1) is the owner's own machine"],
      ['rebind.example.com', 8080, "rebind.example.com (127.0.0.1) is the owner's own machine"],
      ['lan.example.com', 8123, "lan.example.com (192.168.1.20) is the owner's own network"],
    ] as const) {
      const d = await decideEgress(answered(`${host}:${port}`), host, port, resolve);
      expect(d, host).toMatchObject({ allow: false, ownNetwork: true, reason: expect.stringContaining(words) });
    }
    // A public host answered "always" is allowed, as before.
    expect((await decideEgress(answered('example.com:8443'), 'example.com', 8443, resolve)).allow).toBe(true);
  });

  test('address classes and host:port parsing', () => {
    expect(isPublicAddress('93.184.215.14')).toBe(true);
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
    ])
      expect(isPublicAddress(a), a).toBe(false);
    expect(parseHostPort('Example.COM:8443', 443)).toEqual({ host: 'example.com', port: 8443 });
    expect(parseHostPort('[::1]:80', 443)).toEqual({ host: '::1', port: 80 });
    expect(parseHostPort('example.com', 443)).toEqual({ host: 'example.com', port: 443 });
    expect(parseHostPort('example.com:99999', 443)).toBeNull();
    expect(parseHostPort('bad host:80', 443)).toBeNull();
  });
});

test('policy none, through a real proxy client: CONNECT and plain http get 403 with the reason, and the destination sees nothing', async () => {
  let connections = 0;
  const dest = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => dest.listen(0, '127.0.0.1', r));
  const port = (dest.address() as net.AddressInfo).port;
  // Listed in the settings, so only "none" stands between the sandbox and this server.
  const gw = gatewayWithEgress({ 'local:g': { egress: 'none', egressAllowlist: [`127.0.0.1:${port}`] } }).gateway;
  const identity = { groupFolder: 'g', chatJid: 'local:g', isMain: false, taskId: null };
  const sock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-none-')), 'gw.sock');
  const ep = await gw.openEndpoint(sock, identity, {} as EndpointHandlers);
  try {
    const tunnel = await connectThrough(sock, `127.0.0.1:${port}`);
    expect(tunnel).toEqual({
      status: 403,
      header: 'refused',
      body: `NanoClaw refused 127.0.0.1:${port}: this group's network policy is "none": only the model API is reachable.\n`,
    });
    const plain = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ socketPath: sock, method: 'GET', path: `http://127.0.0.1:${port}/x` }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(plain.status).toBe(403);
    expect(plain.body).toMatch(/network policy is "none"/);
    expect(connections).toBe(0);
  } finally {
    await ep.close();
    dest.close();
  }
});

test("a VM sandbox's TCP gateway endpoint is the host's own port: another sandbox's proxy refuses it even when listed", async () => {
  const settings: Record<string, SandboxSettings> = {};
  const gw = gatewayWithEgress(settings).gateway;
  const vm = await gw.openEndpoint(
    '',
    { groupFolder: 'vm', chatJid: 'local:vm', isMain: false, taskId: null },
    {} as EndpointHandlers,
    { openEndpoint: tcpEndpoint('127.0.0.1') },
  );
  const vmPort = Number(new URL(vm.env!.NANOCLAW_GATEWAY_SOCKET.replace('tcp:', 'http:')).port);
  settings['local:g'] = { egress: 'allowlist', egressAllowlist: [`127.0.0.1:${vmPort}`] };
  const sock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-own-')), 'gw.sock');
  const ep = await gw.openEndpoint(
    sock,
    { groupFolder: 'g', chatJid: 'local:g', isMain: false, taskId: null },
    {} as EndpointHandlers,
  );
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ socketPath: sock, method: 'CONNECT', path: `127.0.0.1:${vmPort}` });
      req.on('connect', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  } finally {
    await ep.close();
    await vm.close();
  }
});

/** A plain-http GET through the endpoint's proxy: status and body. */
function proxyGet(sock: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method: 'GET', path: url }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test("the plugin reads the chat's settings at each connection; a chat no longer registered reaches nothing", async () => {
  const echo = http.createServer((_req, res) => res.end('echo-ok'));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const port = (echo.address() as net.AddressInfo).port;
  const settings: Record<string, SandboxSettings> = {
    'local:g': { egress: 'allowlist', egressAllowlist: [`127.0.0.1:${port}`] },
  };
  const gw = gatewayWithEgress(settings).gateway;
  const sock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-live-')), 'gw.sock');
  const ep = await gw.openEndpoint(
    sock,
    { groupFolder: 'g', chatJid: 'local:g', isMain: false, taskId: null },
    {} as EndpointHandlers,
  );
  try {
    expect(await proxyGet(sock, `http://127.0.0.1:${port}/a`)).toEqual({ status: 200, body: 'echo-ok' });
    settings['local:g'] = { egress: 'none' };
    expect((await proxyGet(sock, `http://127.0.0.1:${port}/b`)).body).toMatch(/network policy is "none"/);
    delete settings['local:g'];
    expect(await proxyGet(sock, `http://127.0.0.1:${port}/c`)).toEqual({
      status: 403,
      body: `NanoClaw refused 127.0.0.1:${port}: this chat is no longer registered.\n`,
    });
  } finally {
    await ep.close();
    echo.close();
  }
});

test("a model server on this machine is the host's own port: the plugin adds it, a public one it leaves alone", () => {
  expect([...gatewayWithEgress({}, 'http://127.0.0.1:8089').ownPorts]).toEqual([8089]);
  expect([...gatewayWithEgress({}, 'http://localhost').ownPorts]).toEqual([80]);
  expect([...gatewayWithEgress({}, 'https://api.anthropic.com').ownPorts]).toEqual([]);
});

describe.each(RUNTIMES)('a policy changed while the sandbox lives, on %s', (runtime) => {
  let env: BashEnv;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  beforeAll(async () => {
    echo = await startEchoServer();
    env = await startBashEnv(runtime);
  });
  afterAll(async () => {
    await env?.close();
    await echo?.close();
  });

  test('PATCHing egress to none mid-turn refuses the next request and CONNECT through the same endpoint', async () => {
    const jid = env.addGroup('gamma', { egress: 'allowlist', egressAllowlist: [`127.0.0.1:${echo.port}`] });
    const ready = path.join(env.home, 'groups', 'gamma', 'checked-before');
    const signal = path.join(env.home, 'groups', 'gamma', 'policy-changed');
    const proxy = '"http://127.0.0.1:$NANOCLAW_LOCAL_PORT"';
    const target = `127.0.0.1:${echo.port}`;
    const reply = env.bash(
      jid,
      [
        `echo "before=$(curl -s --noproxy '' -x ${proxy} http://${target}/before)"`,
        `echo "before-tls=$(curl -s -o /dev/null -w '%{http_connect}' --noproxy '' -x ${proxy} https://${target}/)"`,
        // Wait (bounded) for the test to change the policy while this sandbox and its endpoint stay up.
        'touch /workspace/group/checked-before',
        'for i in $(seq 600); do [ -e /workspace/group/policy-changed ] && break; sleep 0.1; done',
        `echo "after=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '' -x ${proxy} http://${target}/after)"`,
        `echo "after-tls=$(curl -s -o /dev/null -w '%{http_connect}' --noproxy '' -x ${proxy} https://${target}/)"`,
      ].join('; '),
    );
    await until(() => fs.existsSync(ready), 60_000, 'the sandbox to try the old policy');
    const res = await env.api(`/api/groups/${encodeURIComponent(jid)}`, {
      method: 'PATCH',
      json: { sandbox: { egress: 'none' } },
    });
    expect(res.status).toBe(200);
    fs.writeFileSync(signal, 'now\n');
    const text = await reply;
    expect(text).toContain('before=echo-ok');
    expect(text).toContain('before-tls=200');
    expect(text).toContain('after=403');
    expect(text).toContain('after-tls=403');
    expect(echo.requests.some((r) => r.url === '/after')).toBe(false);
  });
});
