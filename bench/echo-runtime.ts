// A SandboxRuntime for measuring the host alone: it runs a tiny runner that
// speaks the real gateway protocol over the real unix socket but answers each
// turn at once, without the SDK. Only the bench uses it.
import { spawnSandbox } from '../src/core/sandbox/spawn.js';
import type { SandboxRuntime, SandboxSpec } from '../src/core/types.js';

const SCRIPT = `
const http = require('node:http');
const sock = process.argv[1];
const call = (method, path, body) => new Promise((resolve, reject) => {
  const data = body ? JSON.stringify(body) : undefined;
  const req = http.request({ socketPath: sock, method, path, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
    let t = ''; res.on('data', (c) => t += c); res.on('end', () => resolve(t ? JSON.parse(t) : {}));
  });
  req.on('error', reject); if (data) req.write(data); req.end();
});
(async () => {
  await call('GET', '/runner/start');
  await call('POST', '/runner/event', { type: 'session', sessionId: 'echo-session' });
  for (;;) {
    await call('POST', '/runner/event', { type: 'result', text: 'ok', sessionId: 'echo-session', isError: false });
    let next;
    do { next = await call('GET', '/runner/next'); } while (next.wait);
    if (next.close) break;
  }
})().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
`;

export function createEchoRuntime(): SandboxRuntime {
  return {
    name: 'echo',
    async check() {
      return { ok: true };
    },
    start(spec: SandboxSpec) {
      return spawnSandbox(process.execPath, ['-e', SCRIPT, spec.gatewaySocket], {
        env: { PATH: '/usr/bin:/bin' },
        outputCapBytes: spec.limits.outputCapBytes,
      });
    },
  };
}
