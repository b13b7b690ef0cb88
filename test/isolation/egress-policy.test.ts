// The egress policy's decisions, without a sandbox: what each policy lets through
// and what it refuses before any connection or lookup. Then, with a live
// sandbox: a policy changed while it runs applies to its next connection.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decideEgress, egressRules, isPublicAddress, parseHostPort } from '../../src/gateway/egress/policy.js';
import { until } from '../support/harness.js';
import { RUNTIMES, startBashEnv, startEchoServer, type BashEnv } from './support.js';

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
      (await decideEgress(egressRules({ egress: 'allowlist', egressAllowlist: ['93.184.215.14:443'] }), '93.184.215.14', 443, resolve))
        .allow,
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
      await decideEgress(egressRules({ egress: 'allowlist', egressAllowlist: ['localhost:8080'] }), 'localhost', 8080, resolve),
    ).toMatchObject({ allow: true, address: '127.0.0.1' });
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
    const res = await env.api(`/api/groups/${encodeURIComponent(jid)}`, { method: 'PATCH', json: { sandbox: { egress: 'none' } } });
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
