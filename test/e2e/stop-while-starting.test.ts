// A stop that comes while `nanoclaw start` is still checking the model (a slow or unreachable API) stops the host in
// order, as a service manager's stop at any other time does, instead of killing it mid-way.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, test } from 'vitest';
import { makeHome, TEST_KEY, until } from '../support/harness.js';
import { startHostProcess } from '../support/host-process.js';

// A model API that takes every request and never answers.
let asked = 0;
const silent = http.createServer(() => void asked++);
afterAll(() => {
  silent.closeAllConnections();
  silent.close();
});

test('SIGTERM while the start-up model check waits: the host stops in order and exits 0', async () => {
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const { port } = silent.address() as AddressInfo;
  const host = await startHostProcess(makeHome('nanoclaw-stop-early-'), {
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
    NANOCLAW_RUNTIME: 'bwrap',
  });
  await until(() => asked > 0, 15_000, 'the start-up model check');
  host.child.kill('SIGTERM');
  const { child } = host;
  await until(() => child.exitCode !== null || child.signalCode !== null, 30_000, 'NanoClaw to exit');
  expect(child.signalCode).toBeNull();
  expect(child.exitCode).toBe(0);
  expect(host.output()).toContain('SIGTERM: stopping…');
}, 60_000);
