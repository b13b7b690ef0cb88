// The agent's browser on every runtime under test: agent-browser drives the
// sandbox's Chromium (the host's on bwrap, the image's on docker and podman)
// through the gateway's egress proxy, so a page on the host's 127.0.0.1 loads
// only for a group whose allowlist names it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RUNTIMES, startBashEnv, startEchoServer, type BashEnv } from './support.js';

describe.each(RUNTIMES)('browser on %s', (runtime) => {
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

  const browse = (port: number, path: string) =>
    `agent-browser open http://127.0.0.1:${port}${path} && agent-browser get text body && agent-browser screenshot; agent-browser close; echo "exit=$?"`;

  test('an allowed page loads in Chromium; the same page is refused to a group that does not list it', async () => {
    const allowed = env.addGroup('browse-ok', { egress: 'allowlist', egressAllowlist: [`127.0.0.1:${echo.port}`] });
    const closed = env.addGroup('browse-no', {
      egress: 'allowlist',
      egressAllowlist: ['docs.example.com'],
      approvals: { policy: { network: 'deny' } },
    });
    const ok = await env.bash(allowed, browse(echo.port, '/allowed'));
    expect(ok).toContain('echo-ok');
    expect(ok).toMatch(/Screenshot saved to \/workspace\/group\/screenshots\/screenshot-\d+\.png/);
    expect(echo.requests.some((r) => r.url === '/allowed')).toBe(true);
    const refused = await env.bash(closed, browse(echo.port, '/refused'));
    expect(refused).not.toContain('echo-ok');
    expect(refused).toContain(`NanoClaw refused 127.0.0.1:${echo.port}`);
    expect(echo.requests.some((r) => r.url === '/refused')).toBe(false);
  });
});
