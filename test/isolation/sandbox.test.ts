// Attacks on the sandbox from inside, on every runtime under test: the agent runs
// shell commands (scripted through the fake model) and the test checks what they
// could see, write and reach, and what the host recorded.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TEST_KEY, until } from '../support/harness.js';
import { RUNTIMES, startBashEnv, startEchoServer, type BashEnv } from './support.js';

describe.each(RUNTIMES)('sandbox isolation on %s', (runtime) => {
  let env: BashEnv;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let outside: string;
  const canary = `CANARY-${crypto.randomBytes(8).toString('hex')}`;
  // A pattern that matches the secret without containing it, so grep's own command line never counts.
  const selfless = (secret: string) => `'${secret.slice(0, 4)}[${secret[4]}]${secret.slice(5)}'`;
  const canaryGrep = selfless(canary);
  const keyGrep = selfless(TEST_KEY);

  beforeAll(async () => {
    echo = await startEchoServer();
    env = await startBashEnv(runtime);
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-extra-'));
    env.addGroup('alpha');
    // network: deny, so a destination off the list is refused at once instead of asking the owner.
    env.addGroup('beta', {
      egress: 'allowlist',
      egressAllowlist: [`127.0.0.1:${echo.port}`],
      approvals: { policy: { network: 'deny' } },
    });
    const alphaDir = path.join(env.home, 'groups', 'alpha');
    fs.appendFileSync(path.join(alphaDir, 'CLAUDE.md'), `\nThe family safe code is ${canary}\n`);
    fs.writeFileSync(path.join(alphaDir, 'secret.txt'), `${canary}\n`);
  });
  afterAll(async () => {
    await env?.close();
    await echo?.close();
    if (outside) fs.rmSync(outside, { recursive: true, force: true });
  });

  test("another group's folder and memory cannot be read: by path, by .., by symlink, by /proc", async () => {
    const home = env.home;
    const reply = await env.bash(
      'local:beta',
      [
        `cat ${home}/groups/alpha/secret.txt ${home}/groups/alpha/CLAUDE.md 2>&1 | head -3`,
        'ls -a /workspace/.. /workspace/group/.. 2>&1 | head -20',
        'cat /workspace/group/../../groups/alpha/secret.txt /workspace/group/../alpha/secret.txt 2>&1',
        `ln -sfn ${home}/groups/alpha /workspace/group/alpha-link; cat /workspace/group/alpha-link/secret.txt 2>&1`,
        `cat /proc/1/root${home}/groups/alpha/secret.txt 2>&1`,
        `for p in /proc/[0-9]*; do cat $p/root${home}/groups/alpha/secret.txt 2>/dev/null; done`,
        `echo "hits=$(grep -rls ${canaryGrep} /workspace /home /tmp /run /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | wc -l)"`,
      ].join('; '),
    );
    expect(reply).toContain('RESULT:');
    expect(reply).toContain('hits=0');
    expect(reply).not.toContain(canary);
    // Nor did the model, serving beta, ever get shown alpha's memory.
    expect(env.fake.requests.some((r) => r.text.includes(canary))).toBe(false);
    expect(fs.readFileSync(path.join(home, 'groups', 'alpha', 'secret.txt'), 'utf8')).toBe(`${canary}\n`);
  });

  test('the host credential is nowhere inside, while the model API receives it', async () => {
    const reply = await env.bash(
      'local:beta',
      [
        `echo "env=$(env | grep -c ${keyGrep})"`,
        `echo "environ=$(cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c ${keyGrep})"`,
        `echo "cmdline=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -c ${keyGrep})"`,
        `echo "files=$(grep -rls ${keyGrep} /workspace /home /tmp /run /app/runner /etc 2>/dev/null | wc -l)"`,
        'echo "apikey=$ANTHROPIC_API_KEY"',
        // Ask the model proxy directly, and send a request through the egress proxy to a server we see.
        'curl -s -X POST -H "content-type: application/json" -d \'{"model":"x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}\' "http://127.0.0.1:$NANOCLAW_LOCAL_PORT/v1/messages" | head -c 300; echo',
        `curl -s --noproxy "" -x "http://127.0.0.1:$NANOCLAW_LOCAL_PORT" -H "x-api-key: placeholder" http://127.0.0.1:${echo.port}/v1/messages`,
      ].join('; '),
    );
    expect(reply).toContain('env=0');
    expect(reply).toContain('environ=0');
    expect(reply).toContain('cmdline=0');
    expect(reply).toContain('files=0');
    expect(reply).not.toContain(TEST_KEY);
    expect(reply).toContain('echo-ok');
    expect(echo.requests.length).toBeGreaterThan(0);
    for (const r of echo.requests) expect(JSON.stringify(r.headers)).not.toContain(TEST_KEY);
    // The upstream saw the real key on every model call.
    const modelCalls = env.fake.requests.filter((r) => r.path.endsWith('/v1/messages'));
    expect(modelCalls.length).toBeGreaterThan(0);
    for (const r of modelCalls) expect(r.headers['x-api-key']).toBe(TEST_KEY);
  });

  test("no process's command line inside shows the host's layout", async () => {
    // bwrap is the sandbox's pid 1, so its own arguments (every host path it mounts) would be there.
    const reply = await env.bash(
      'local:beta',
      [
        'echo "procs=$(ls -d /proc/[0-9]* | wc -l)"',
        `echo "hits=$(for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/cmdline 2>/dev/null; done | grep -c ${selfless(env.home)})"`,
        "for p in /proc/[0-9]*; do echo \"$p: $(tr '\\0' ' ' < $p/cmdline 2>/dev/null | head -c 300)\"; done",
      ].join('; '),
    );
    expect(reply).toContain('RESULT:');
    expect(reply).toMatch(/procs=[1-9]/);
    expect(reply).toContain('hits=0');
    expect(reply).not.toContain(env.home);
  });

  test('the model proxy forwards only the Messages API, however the path is spelled, and meters every call it forwards', async () => {
    const probe = `probe-${crypto.randomBytes(6).toString('hex')}`;
    const body = JSON.stringify({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: probe }] });
    const gw = '"http://127.0.0.1:$NANOCLAW_LOCAL_PORT"';
    const curl = (name: string, p: string) =>
      `echo "${name}=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -d '${body}' ${gw}${p})"`;
    // Straight to the socket too, with paths curl would not send as they are.
    const raw = (name: string, p: string) =>
      `node -e 'const h=require("http");const d=${JSON.stringify(body)};const q=h.request({socketPath:"/run/nanoclaw/gateway.sock",method:"POST",path:${JSON.stringify(p)},headers:{"content-type":"application/json","content-length":Buffer.byteLength(d)}},s=>{s.resume();s.on("end",()=>console.log("${name}="+s.statusCode))});q.end(d)'`;
    const usageCalls = () => env.host.store.usage.byGroup().find((g) => g.groupFolder === 'beta')?.calls ?? 0;
    const usageBefore = usageCalls();
    const requestsBefore = env.fake.requests.length;
    const reply = await env.bash(
      'local:beta',
      [
        curl('escape', '/v1/../x'),
        curl('encoded', '/v1/%2e%2e/x'),
        curl('double', '/v1/%252e%252e/x'),
        curl('models', '/v1/models'),
        curl('batches', '//v1//messages/batches'),
        `echo "why=$(curl -s --path-as-is -X POST -d '{}' ${gw}/v1/../x)"`,
        raw('backslash', '/v1\\..\\x'),
        curl('alias', '/v1/../v1/messages'),
        raw('alias-encoded', '/v1/%2e%2e/v1/messages?beta=true'),
        raw('alias-backslash', '/v1\\messages'),
      ].join('; '),
    );
    for (const refused of ['escape', 'encoded', 'double', 'models', 'batches', 'backslash'])
      expect(reply).toContain(`${refused}=403`);
    expect(reply).toMatch(/why=.*NanoClaw forwards only POST \/v1\/messages and POST \/v1\/messages\/count_tokens/);
    for (const forwarded of ['alias', 'alias-encoded', 'alias-backslash']) expect(reply).toContain(`${forwarded}=200`);
    // The upstream saw only Messages API paths, the probes among them, each under its canonical name.
    const seen = env.fake.requests.slice(requestsBefore);
    expect(seen.filter((r) => !['/v1/messages', '/v1/messages/count_tokens'].includes(r.path))).toEqual([]);
    expect(
      seen
        .filter((r) => r.text.includes(probe))
        .map((r) => r.url)
        .sort(),
    ).toEqual(['/v1/messages', '/v1/messages', '/v1/messages?beta=true']);
    // Every Messages call forwarded (the agent's own and the probes) was metered.
    const messageCalls = seen.filter((r) => r.path === '/v1/messages').length;
    await until(() => usageCalls() - usageBefore === messageCalls, 10_000, `${messageCalls} metered calls`);
  });

  test('writes outside the allowed mounts fail and leave the host untouched', async () => {
    const runner = path.join(process.cwd(), 'dist', 'runner');
    const before = fs.readdirSync(runner).sort();
    const reply = await env.bash(
      'local:beta',
      [
        'for p in /workspace/global/x.txt /workspace/global/CLAUDE.md /app/runner/x.js /app/runner/index.js /usr/x /etc/passwd /x; do if (echo pwned >> "$p") 2>/dev/null; then echo "WROTE $p"; else echo "DENIED $p"; fi; done',
        'echo hello > /workspace/group/note.txt && echo "WROTE group"',
      ].join('; '),
    );
    expect(reply).toContain('WROTE group');
    for (const p of [
      '/workspace/global/x.txt',
      '/workspace/global/CLAUDE.md',
      '/app/runner/x.js',
      '/app/runner/index.js',
      '/usr/x',
      '/etc/passwd',
    ]) {
      expect(reply).toContain(`DENIED ${p}`);
    }
    expect(fs.existsSync(path.join(env.home, 'groups', 'global', 'x.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(env.home, 'groups', 'global', 'CLAUDE.md'), 'utf8')).not.toContain('pwned');
    expect(fs.readdirSync(runner).sort()).toEqual(before);
    expect(fs.readFileSync(path.join(runner, 'index.js'), 'utf8')).not.toContain('pwned');
    expect(fs.readFileSync(path.join(env.home, 'groups', 'beta', 'note.txt'), 'utf8')).toBe('hello\n');
  });

  test('network: no direct way to the host, the proxy refuses what the policy does not allow, an allowlisted destination works', async () => {
    const fakePort = env.fake.port;
    const proxy = '"http://127.0.0.1:$NANOCLAW_LOCAL_PORT"';
    const reply = await env.bash(
      'local:beta',
      [
        `if (exec 3<>/dev/tcp/127.0.0.1/${fakePort}) 2>/dev/null; then echo direct-host=open; else echo direct-host=refused; fi`,
        `echo "proxy-host-loopback=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '' -x ${proxy} http://127.0.0.1:${fakePort}/v1/models)"`,
        `echo "tunnel-host-loopback=$(curl -s -o /dev/null -w '%{http_connect}' --noproxy '' -x ${proxy} https://127.0.0.1:${fakePort}/)"`,
        `echo "not-allowlisted=$(curl -s -o /dev/null -w '%{http_code}' -x ${proxy} http://example.com/)"`,
        `echo "not-allowlisted-tls=$(curl -s -o /dev/null -w '%{http_connect}' -x ${proxy} https://example.com/)"`,
        `echo "raw-ip=$(curl -s -o /dev/null -w '%{http_code}' -x ${proxy} http://93.184.215.14/)"`,
        `echo "raw-ip-tls=$(curl -s -o /dev/null -w '%{http_connect}' -x ${proxy} https://1.1.1.1/)"`,
        `curl -s -x ${proxy} http://example.com/ | head -c 300; echo`,
        `echo "allowlisted=$(curl -s --noproxy '' -x ${proxy} http://127.0.0.1:${echo.port}/hello)"`,
      ].join('; '),
    );
    expect(reply).toContain('direct-host=refused');
    expect(reply).toContain('proxy-host-loopback=403');
    expect(reply).toContain('tunnel-host-loopback=403');
    expect(reply).toContain('not-allowlisted=403');
    expect(reply).toContain('not-allowlisted-tls=403');
    expect(reply).toContain('raw-ip=403');
    expect(reply).toContain('raw-ip-tls=403');
    expect(reply).toMatch(/NanoClaw refused example\.com:80: .*not allowed by this group's network policy/);
    expect(reply).toContain('allowlisted=echo-ok');
    expect(echo.requests.some((r) => r.url === '/hello')).toBe(true);
  });

  test("a gateway call claiming another group's identity acts for the caller's own group", async () => {
    const call = (route: string, body: object) =>
      `node -e 'const h=require("http");const d=JSON.stringify(${JSON.stringify(body)});const q=h.request({socketPath:"/run/nanoclaw/gateway.sock",method:"POST",path:"${route}",headers:{"content-type":"application/json","content-length":Buffer.byteLength(d)}},s=>{let t="";s.on("data",c=>t+=c);s.on("end",()=>console.log("${route}:",t))});q.end(d)'`;
    const spoof = {
      groupFolder: 'main',
      chatJid: 'local:main',
      chat_jid: 'local:main',
      isMain: true,
      identity: { groupFolder: 'main', isMain: true },
    };
    const reply = await env.bash(
      'local:beta',
      [
        call('/tools/send_message', { text: 'spoofed-hello', ...spoof }),
        call('/tools/register_group', { jid: 'local:evil', name: 'Evil', folder: 'evil', ...spoof }),
      ].join('; '),
    );
    expect(reply).toContain('/tools/register_group:');
    expect(reply).toMatch(/main/i);
    expect(env.host.store.groups.get('local:evil')).toBeFalsy();
    const beta = await env.messages('local:beta');
    const main = await env.messages('local:main');
    expect(beta.some((m) => m.text.includes('spoofed-hello'))).toBe(true);
    expect(main.some((m) => m.text.includes('spoofed-hello'))).toBe(false);
  });

  test('extra mounts: an allowed folder appears read-only; a blocked or malformed one is refused with the reason', async () => {
    const shared = path.join(outside, 'shared');
    fs.mkdirSync(path.join(shared, 'docs'), { recursive: true });
    fs.mkdirSync(path.join(shared, '.ssh'), { recursive: true });
    fs.writeFileSync(path.join(shared, 'docs', 'readme.txt'), 'shared notes\n');
    fs.writeFileSync(path.join(shared, '.ssh', 'id_ed25519'), 'not a real key\n');
    fs.symlinkSync(path.join(shared, '.ssh'), path.join(shared, 'innocent'));
    fs.mkdirSync(env.config.configDir, { recursive: true });
    fs.writeFileSync(
      path.join(env.config.configDir, 'mount-allowlist.json'),
      JSON.stringify({ allowedRoots: [{ path: shared, allowReadWrite: true }], nonMainReadOnly: true }),
    );

    env.addGroup('mounty', {
      extraMounts: [{ hostPath: path.join(shared, 'docs'), containerPath: 'docs', readonly: true }],
    });
    const ok = await env.bash(
      'local:mounty',
      'cat /workspace/extra/docs/readme.txt; if (echo x > /workspace/extra/docs/new.txt) 2>/dev/null; then echo WROTE-EXTRA; else echo DENIED-EXTRA; fi',
    );
    expect(ok).toContain('shared notes');
    expect(ok).toContain('DENIED-EXTRA');
    expect(fs.existsSync(path.join(shared, 'docs', 'new.txt'))).toBe(false);

    const refusals: [string, object, RegExp][] = [
      ['keys', { hostPath: path.join(shared, '.ssh'), containerPath: 'keys' }, /blocked pattern "\.ssh"/],
      [
        'sneaky',
        { hostPath: path.join(shared, 'innocent'), containerPath: 'innocent' },
        /resolves to .*\.ssh.*blocked pattern/,
      ],
      ['colon', { hostPath: path.join(shared, 'docs'), containerPath: 'docs:/etc' }, /contains ":"/],
      ['dotdot', { hostPath: path.join(shared, 'docs'), containerPath: '../../group' }, /contains "\.\."/],
      [
        'writer',
        { hostPath: path.join(shared, 'docs'), containerPath: 'docs', readonly: false },
        /non-main groups get extra mounts read-only/,
      ],
      ['ownhome', { hostPath: env.home, containerPath: 'home' }, /NanoClaw's own files/],
    ];
    for (const [folder, mount, why] of refusals) {
      env.addGroup(folder, { extraMounts: [mount as any] });
      const reply = await env.bash(`local:${folder}`, 'echo should-not-run');
      expect(reply).toMatch(/sandbox was not started: extra mount .* was refused/);
      expect(reply).toMatch(why);
      expect(reply).not.toContain('should-not-run');
    }
  });
});
