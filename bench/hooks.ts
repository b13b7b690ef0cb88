// Measurements for `npm run bench`: how long a runtime takes from start to the
// runner's first call to its gateway (runner-ready), and how much time the
// gateway adds to a model call. The bench decides what to report; these only
// measure, with everything they start torn down again.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { noApprover } from '../src/core/ask.js';
import { createGateway, type EndpointHandlers, type Identity } from '../src/core/gateway/gateway.js';
import { ensureHome, homePaths } from '../src/core/config/home.js';
import { silentLogger } from '../src/core/logger.js';
import type { SandboxRuntime } from '../src/core/types.js';
import { GATEWAY_SOCKET_INSIDE } from '../runner/protocol.js';
import { groupMounts, INSIDE } from '../src/core/sandbox/mounts.js';
import { proxyEnv } from '../src/core/sandbox/sandbox-env.js';

const LIMITS = { memoryMb: 2048, cpus: 1, pids: 512, outputCapBytes: 16 * 1024 * 1024 };

/**
 * Cold start to runner-ready, in ms, `samples` times: a fresh sandbox each time,
 * timed from runtime.start() to the runner asking the gateway for its turn.
 */
export async function measureColdStart(
  runtime: SandboxRuntime,
  opts: { home: string; samples?: number; timeoutMs?: number },
): Promise<number[]> {
  const paths = homePaths(opts.home);
  ensureHome(paths, 'Andy');
  const gateway = createGateway({
    upstream: 'http://127.0.0.1:9',
    credential: () => null,
    ownPorts: new Set(),
    hooks: [],
    approver: noApprover(() => undefined),
    logger: silentLogger(),
  });
  const identity: Identity = { groupFolder: 'bench', chatJid: 'local:bench', isMain: false, taskId: null };
  const out: number[] = [];
  for (let i = 0; i < (opts.samples ?? 20); i++) {
    const id = `bench-${crypto.randomBytes(4).toString('hex')}`;
    let ready!: (t: number) => void;
    const readyAt = new Promise<number>((r) => {
      ready = r;
    });
    const handlers: EndpointHandlers = {
      start: () => {
        ready(performance.now());
        return {
          turn: { prompt: 'bench' },
          sessionId: null,
          assistantName: 'Andy',
          isMain: false,
          groupName: 'bench',
          isScheduledTask: false,
          tools: [],
        };
      },
      next: async () => ({ close: true }),
      event: () => {},
      tool: async () => ({ ok: false, error: 'bench' }),
      sessionId: () => null,
    };
    const socketPath = path.join(paths.sockets, `${id}.sock`);
    const endpoint = await gateway.openEndpoint(socketPath, identity, handlers);
    const mounts = groupMounts(paths, { folder: 'bench', isMain: false });
    mounts.push({ hostPath: process.execPath, containerPath: '/app/bin/node', readonly: true });
    const t0 = performance.now();
    const sandbox = runtime.start({
      id,
      groupFolder: 'bench',
      mounts,
      gatewaySocket: socketPath,
      gatewaySocketInside: GATEWAY_SOCKET_INSIDE,
      env: {
        HOME: INSIDE.home,
        PATH: '/app/bin:/usr/local/bin:/usr/bin:/bin',
        LANG: 'C.UTF-8',
        NANOCLAW_GATEWAY_SOCKET: GATEWAY_SOCKET_INSIDE,
        ...proxyEnv(),
      },
      command: ['/app/bin/node', INSIDE.runner],
      workdir: INSIDE.group,
      limits: LIMITS,
    });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(
            new Error(
              `the ${runtime.name} sandbox did not reach its gateway within ${opts.timeoutMs ?? 60_000} ms: ${sandbox.output().slice(-300)}`,
            ),
          ),
        opts.timeoutMs ?? 60_000,
      ).unref(),
    );
    try {
      const t1 = await Promise.race([
        readyAt,
        timeout,
        sandbox.exited.then(() => {
          throw new Error(`the ${runtime.name} sandbox exited before runner-ready: ${sandbox.output().slice(-300)}`);
        }),
      ]);
      out.push(t1 - t0);
    } finally {
      sandbox.kill();
      await sandbox.exited;
      await endpoint.close();
    }
  }
  return out;
}

/**
 * One model call's round trip, in ms, `samples` times each: straight to a local
 * upstream, and through a gateway endpoint (unix socket) to the same upstream.
 * The difference is what the gateway adds.
 */
export async function measureGatewayLatency(
  opts: { samples?: number } = {},
): Promise<{ direct: number[]; viaGateway: number[] }> {
  const reply = JSON.stringify({
    id: 'msg_bench',
    type: 'message',
    role: 'assistant',
    model: 'bench',
    content: [{ type: 'text', text: 'ok' }],
    stop_reason: 'end_turn',
    usage: { input_tokens: 1, output_tokens: 1 },
  });
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(reply);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  const gateway = createGateway({
    upstream: `http://127.0.0.1:${port}`,
    credential: () => ({ kind: 'api-key', value: 'bench' }),
    ownPorts: new Set(),
    hooks: [],
    approver: noApprover(() => undefined),
    logger: silentLogger(),
  });
  const identity: Identity = { groupFolder: 'bench', chatJid: 'local:bench', isMain: false, taskId: null };
  const socketPath = path.join(os.tmpdir(), `nanoclaw-bench-${process.pid}.sock`);
  const endpoint = await gateway.openEndpoint(socketPath, identity, {
    start: () => {
      throw new Error('not used');
    },
    next: async () => ({ close: true }),
    event: () => {},
    tool: async () => ({ ok: false, error: 'bench' }),
    sessionId: () => null,
  });
  const body = JSON.stringify({ model: 'bench', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] });
  const agentTcp = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const agentUnix = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = (o: http.RequestOptions) =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const req = http.request(
        {
          ...o,
          method: 'POST',
          path: '/v1/messages',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(performance.now() - t0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const direct: number[] = [];
  const viaGateway: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      await call({ host: '127.0.0.1', port, agent: agentTcp });
      await call({ socketPath, agent: agentUnix });
    }
    for (let i = 0; i < (opts.samples ?? 200); i++) {
      direct.push(await call({ host: '127.0.0.1', port, agent: agentTcp }));
      viaGateway.push(await call({ socketPath, agent: agentUnix }));
    }
  } finally {
    agentTcp.destroy();
    agentUnix.destroy();
    await endpoint.close();
    await new Promise<void>((r) => {
      upstream.closeAllConnections();
      upstream.close(() => r());
    });
  }
  return { direct, viaGateway };
}
