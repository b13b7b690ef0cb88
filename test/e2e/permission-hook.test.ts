// The runner's permission hook fails closed: when the gateway's answer about a
// held tool cannot be had (the route fails, the connection drops), the tool does
// not run and the agent is told why. Real host, real bwrap sandbox, real Agent SDK;
// the fault sits in the sandbox's path to its gateway, through the runtime the
// host is handed, so the runner's own code decides.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { selectRuntime } from '../../src/core/sandbox/runtimes.js';
import { RUNTIMES } from '../../src/plugins/index.js';
import type { SandboxRuntime, SandboxSpec } from '../../src/core/types.js';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { makeHome, startTestEnv, type TestEnv } from '../support/harness.js';

type Fault = 'none' | 'status-500' | 'drop' | 'no-verdict';
let fault: Fault = 'none';
/** Approval calls the fault stopped, so a test knows the hook did ask. */
let stopped = 0;
let env: TestEnv;
const proxies: net.Server[] = [];

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  // The tool's result, named by the latest request in the conversation so each test finds its own.
  if (isToolResultTurn(req)) {
    const marker = [...req.text.matchAll(/(?:BASH|WRITE)_\w+/g)].pop();
    return { text: `Tool said (${marker}): ${text}` };
  }
  const bash = /BASH_(\w+)/.exec(text);
  if (bash) return { toolUse: { name: 'Bash', input: { command: `touch /workspace/group/bash-${bash[1]}.txt` } } };
  const write = /WRITE_(\w+)/.exec(text);
  const file = write && `/workspace/group/write-${write[1]}.txt`;
  if (file) return { toolUse: { name: 'Write', input: { file_path: file, content: 'ran\n' } } };
  return { text: 'OK' };
}

/**
 * Stands between one sandbox and its gateway socket: every connection is piped
 * through, except an approval call while a fault is set, which gets a 500, a
 * dropped connection, or an answer without a verdict. (The runner opens one
 * connection per gateway call.)
 */
function flakyGateway(real: string, at: string): net.Server {
  const server = net.createServer((client) => {
    client.once('data', (first) => {
      client.pause();
      if (fault !== 'none' && first.toString('latin1').startsWith('POST /approvals/tool ')) {
        stopped++;
        const status = fault === 'no-verdict' ? '200 OK' : '500 Internal Server Error';
        if (fault === 'drop') client.destroy();
        else client.end(`HTTP/1.1 ${status}\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{"ok":true}`);
        return;
      }
      const upstream = net.connect(real);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end);
      upstream.on('error', end);
      upstream.write(first);
      client.pipe(upstream).pipe(client);
    });
  });
  server.listen(at);
  proxies.push(server);
  return server;
}

beforeAll(async () => {
  const home = makeHome();
  const { runtime } = await selectRuntime('bwrap', { dataDir: path.join(home, 'data'), home, more: RUNTIMES });
  if (!runtime) throw new Error('bubblewrap is required for this test (apt-get install bubblewrap)');
  const faulty: SandboxRuntime = Object.assign(Object.create(runtime), {
    start(spec: SandboxSpec) {
      const at = `${spec.gatewaySocket}.flaky`;
      fs.rmSync(at, { force: true });
      flakyGateway(spec.gatewaySocket, at);
      // The sandbox user is not root: it needs write permission to connect, as on the real socket.
      fs.chmodSync(at, 0o666);
      return runtime.start({ ...spec, gatewaySocket: at });
    },
  });
  env = await startTestEnv({ home, script, host: { runtime: faulty } });
}, 60_000);
afterAll(async () => {
  await env?.close();
  for (const p of proxies) p.close();
});

const groupFile = (name: string) => path.join(env.home, 'groups', 'main', name);
const replies = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => m.text as string);

async function untilToolSaid(marker: string): Promise<string> {
  const mine = (t: string) => t.startsWith(`Tool said (${marker}):`);
  const ms = await env.untilChat(
    'local:main',
    (m) => replies(m).some(mine),
    90_000,
    (m) => `no tool result for ${marker}; replies: ${JSON.stringify(replies(m))}`,
  );
  return replies(ms).find(mine)!;
}

test('with the gateway answering, the held Bash call runs (the path through the fault is sound)', async () => {
  fault = 'none';
  await env.send('local:main', 'please BASH_control');
  await env.untilChat('local:main', () => fs.existsSync(groupFile('bash-control.txt')), 90_000, 'the control command');
  expect(fs.existsSync(groupFile('bash-control.txt'))).toBe(true);
}, 120_000);

test('the approval route answers 500: the held Bash call does not run; the agent is told it was refused', async () => {
  fault = 'status-500';
  const before = stopped;
  await env.send('local:main', 'please BASH_after500');
  // The refusal reaches the model as the tool's result, and the model's answer reaches the chat.
  const said = await untilToolSaid('BASH_after500');
  expect(stopped).toBeGreaterThan(before);
  expect(fs.existsSync(groupFile('bash-after500.txt'))).toBe(false);
  expect(said).toMatch(/could not be asked for approval/);
  expect(said).toMatch(/answered 500/);
}, 120_000);

test('the connection to the gateway drops mid-call: the held Write does not happen; the agent is told', async () => {
  fault = 'drop';
  const before = stopped;
  await env.send('local:main', 'please WRITE_afterdrop');
  const said = await untilToolSaid('WRITE_afterdrop');
  expect(stopped).toBeGreaterThan(before);
  expect(fs.existsSync(groupFile('write-afterdrop.txt'))).toBe(false);
  expect(said).toMatch(/could not be asked for approval/);
}, 120_000);

test('an answer that says nothing about approval is a no: the held Bash call does not run', async () => {
  fault = 'no-verdict';
  const before = stopped;
  await env.send('local:main', 'please BASH_noverdict');
  const said = await untilToolSaid('BASH_noverdict');
  expect(stopped).toBeGreaterThan(before);
  expect(fs.existsSync(groupFile('bash-noverdict.txt'))).toBe(false);
  expect(said).toMatch(/did not approve/);
}, 120_000);
