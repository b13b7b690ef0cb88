// Shared by the isolation suite: which runtimes to attack, and a way to make the
// agent run a shell command. The fake model answers a turn that names a job with
// a Bash tool call, and the tool's result with "RESULT:" and that result's text,
// so the chat reply shows exactly what the command saw inside the sandbox.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerGroup } from '../../src/core/groups/registration.js';
import type { HostOptions } from '../../src/host.js';
import type { SandboxSettings } from '../../src/core/types.js';
import { isToolResultTurn, lastUserText, type RecordedRequest, type ScriptedReply } from '../support/fake-anthropic.js';
import { startTestEnv, type TestEnv } from '../support/harness.js';

/** bwrap always; docker and podman when NANOCLAW_TEST_RUNTIMES names them (the CI lane does). */
export const RUNTIMES: string[] = [
  ...new Set([
    'bwrap',
    ...(process.env.NANOCLAW_TEST_RUNTIMES ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((r) => r === 'docker' || r === 'podman'),
  ]),
];

/** The image container/build-local-rootfs.sh built for the tests. */
export const TEST_IMAGE = process.env.NANOCLAW_TEST_IMAGE || 'nanoclaw-agent-test:local';

export interface BashEnv extends TestEnv {
  /** Runs a command as the agent of `jid` and resolves with the chat's next reply. */
  bash(jid: string, command: string, opts?: { timeoutMs?: number }): Promise<string>;
  /** Sends the job without waiting (for commands that never answer). */
  startBash(jid: string, command: string): Promise<void>;
  addGroup(folder: string, sandbox?: SandboxSettings, opts?: { isMain?: boolean }): string;
}

export async function startBashEnv(
  runtime: string,
  env: Record<string, string> = {},
  host: Partial<HostOptions> = {},
): Promise<BashEnv> {
  const jobs = new Map<string, string>();
  const script = (req: RecordedRequest): ScriptedReply | undefined => {
    if (!Array.isArray(req.body?.tools) || req.body.tools.length === 0) return { text: 'OK' };
    if (isToolResultTurn(req)) return { text: `RESULT:\n${lastUserText(req)}` };
    // The catch-up prompt repeats unanswered messages (a stopped run's): the newest job is the one to run.
    const job = [...lastUserText(req).matchAll(/job-[0-9a-f]{12}/g)].pop()?.[0];
    const command = job ? jobs.get(job) : undefined;
    if (command)
      return { toolUse: { name: 'Bash', input: { command, description: 'isolation test', timeout: 600_000 } } };
    return { text: 'no job here' };
  };
  const base = await startTestEnv({
    script,
    env: {
      NANOCLAW_RUNTIME: runtime,
      NANOCLAW_IMAGE: TEST_IMAGE,
      NANOCLAW_MAX_RETRIES: '1',
      IDLE_TIMEOUT: '500',
      ...env,
    },
    host,
  });
  const replyCount = async (jid: string) => (await base.messages(jid)).filter((m) => m.fromAssistant).length;
  const startBash = async (jid: string, command: string) => {
    const job = `job-${crypto.randomBytes(6).toString('hex')}`;
    jobs.set(job, command);
    await base.send(jid, `please run ${job}`);
  };
  const out = base as BashEnv;
  out.startBash = startBash;
  out.bash = async (jid, command, opts = {}) => {
    const before = await replyCount(jid);
    await startBash(jid, command);
    // The final answer, or the explanation when the run was stopped; not messages the command itself sent.
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    for (;;) {
      const replies = (await base.messages(jid)).filter((m) => m.fromAssistant).slice(before);
      const answer = replies.find((m) => /^RESULT:|couldn't answer|no job here/.test(m.text));
      if (answer) return answer.text as string;
      if (Date.now() > deadline)
        throw new Error(
          `no answer in ${jid} (got: ${replies
            .map((m) => m.text)
            .join(' | ')
            .slice(0, 300)})`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  out.addGroup = (folder, sandbox = {}, opts = {}) => {
    const jid = `local:${folder}`;
    const r = registerGroup(
      { store: out.host.store, paths: out.host.paths, assistantName: out.config.assistantName },
      { jid, name: folder, folder, requiresTrigger: false, sandbox },
    );
    if (!r.ok) throw new Error(r.error);
    if (opts.isMain) throw new Error('use local:main for the main group');
    return jid;
  };
  return out;
}

/** A plain HTTP server on 127.0.0.1 that records what reaches it. */
export async function startEchoServer(): Promise<{
  port: number;
  requests: { url: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}> {
  const requests: { url: string; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('echo-ok\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A CONNECT through a sandbox's gateway socket, as the sandbox's proxy client makes it: status, verdict, body. */
export function connectThrough(
  sock: string,
  target: string,
): Promise<{ status: number; header: unknown; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method: 'CONNECT', path: target });
    req.on('connect', (res, socket, head) => {
      let body = head.toString();
      socket.on('data', (c) => (body += c));
      socket.on('end', () => resolve({ status: res.statusCode ?? 0, header: res.headers['x-nanoclaw-egress'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}
