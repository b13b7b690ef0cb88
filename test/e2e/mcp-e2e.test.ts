// MCP servers per chat, end to end: real host, real bwrap sandbox, real Agent SDK, fake model. A stdio server
// package (built on the registry's @modelcontextprotocol/sdk) is installed into one chat's folder by the CLI;
// the model calls its tool there and the answer reaches the chat; another chat does not have it; a server that
// does not start is said in the chat and in status; an agent's request_mcp_server waits for the owner's answer.
// A remote server's token or API key is piped to the CLI, never on its command line (a token there is refused).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { runCli } from '../support/cli.js';
import { startTestEnv, type TestEnv } from '../support/harness.js';

const ECHO_PACKAGE = path.resolve('test/fixtures/mcp-echo');

let env: TestEnv;
const REMOTE_TOKEN = 'mcp-remote-honeytoken-4b9d2e71';
const REMOTE_KEY = 'mcp-remote-api-key-honey-93c1f0';
/** The path, Authorization and X-Api-Key headers of each call the remote MCP server got. */
const remoteSaw: { path?: string; authorization?: string; apiKey?: string }[] = [];
let remote: http.Server;
/** The remote server's address: it answers on any path, so each server added gets its own (/mcp, /keyed). */
let remoteBase: string;

/** A remote MCP server (the SDK's streamable HTTP transport, stateless) that answers only with the bearer token or
 * the API key. */
async function startRemoteMcp(): Promise<string> {
  remote = http.createServer(async (req, res) => {
    const saw = {
      path: req.url,
      authorization: req.headers.authorization,
      apiKey: req.headers['x-api-key'] as string | undefined,
    };
    remoteSaw.push(saw);
    if (saw.authorization !== `Bearer ${REMOTE_TOKEN}` && saw.apiKey !== REMOTE_KEY)
      return void res.writeHead(401).end('bad token');
    const server = new Server({ name: 'remote-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [
        {
          name: 'shout',
          description: 'Says the text back in capitals, from afar',
          inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
        },
      ],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (r) => ({
      content: [{ type: 'text', text: `REMOTE ${String(r.params.arguments?.text ?? '').toUpperCase()}` }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
}

function script(req: RecordedRequest) {
  const text = lastUserText(req);
  if (isToolResultTurn(req)) return { text: `Tool said: ${text}` };
  const shout = /SHOUT_(\w+)/.exec(text);
  if (shout) return { toolUse: { name: `mcp__${shout[1]}__shout`, input: { text: 'hello there' } } };
  if (text.includes('CALL_REMOTE_DIRECTLY'))
    return {
      toolUse: {
        name: 'Bash',
        input: {
          command: `curl -sS -i -X POST -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' http://127.0.0.1:$NANOCLAW_LOCAL_PORT/mcp/remote -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'`,
          description: 'call the gateway route',
        },
      },
    };
  if (text.includes('DUMP_ENV'))
    return { toolUse: { name: 'Bash', input: { command: 'env; cat /proc/self/environ', description: 'show env' } } };
  if (text.includes('ASK_FOR_PATH'))
    return {
      toolUse: {
        name: 'mcp__nanoclaw__request_mcp_server',
        input: { name: 'sneaky', package: '../../../.ssh', command: 'x' },
      },
    };
  if (text.includes('ASK_FOR_ECHO'))
    return {
      toolUse: {
        name: 'mcp__nanoclaw__request_mcp_server',
        input: { name: 'asked', command: 'mcp-echo', args: ['--from-request'] },
      },
    };
  return { text: 'OK' };
}

/** The CLI as the owner runs it; `input` is what is piped to it. */
const nanoclaw = (args: string[], input: Parameters<typeof runCli>[2] = '') =>
  runCli(args, { NANOCLAW_HOME: env.home }, input);

/** The running process's command line as `ps` shows it, once it is the CLI's (not the fork's before exec). */
async function commandLineOf(pid: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const line = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    if (line.includes('dist/src/cli.js')) return line;
    if (Date.now() > deadline) throw new Error(`process ${pid} never became the CLI: ${line}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const replies = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => String(m.text));
/** Sends, and answers the first new reply of the assistant that matches `pattern`. */
async function ask(jid: string, text: string, pattern: RegExp): Promise<string> {
  const before = replies(await env.messages(jid)).length;
  await env.send(jid, text);
  return env.replyAfter(jid, before, pattern);
}
/** Whether the model was offered `tool` in the chat's latest turn: in the tools, or in the SDK's list of deferred
 * tools (MCP tools are loaded by ToolSearch), one name a line. */
function offered(chatName: string, tool: string): boolean {
  const req = env.fake
    .turnRequests()
    .filter((r) => r.text.includes(`answering in the chat "${chatName}"`))
    .at(-1);
  if (!req) throw new Error(`no turn of the chat ${chatName} reached the model`);
  return req.body.tools.some((t: { name: string }) => t.name === tool) || req.text.split('\n').includes(tool);
}

async function register(jid: string, name: string, folder: string) {
  const res = await env.api('/api/groups', { method: 'POST', json: { jid, name, folder, requiresTrigger: false } });
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  // Agents stay up between messages here, so a server added while one lives must reach the next turn anyway.
  env = await startTestEnv({ script, env: { NANOCLAW_APPROVAL_COOLDOWN_MS: '0', IDLE_TIMEOUT: '600000' } });
  // As `nanoclaw start` does: the CLI finds the running host here.
  fs.writeFileSync(path.join(env.home, 'data', 'host.json'), JSON.stringify({ url: env.host.url, pid: process.pid }));
  await register('local:family', 'Family', 'family');
  await register('local:friends', 'Friends', 'friends');
  remoteBase = await startRemoteMcp();
}, 60_000);
afterAll(async () => {
  await env?.close();
  remote?.closeAllConnections();
  remote?.close();
});

test('a stdio server added with the CLI: its tool answers in that chat only, through the sandbox proxy', async () => {
  // A live agent, waiting for the chat's next message, when the server is added.
  await ask('local:family', 'hello', /^OK$/);
  const live = (await (await env.api('/api/status')).json()) as { agents: { folder: string }[] };
  expect(live.agents.map((a) => a.folder)).toContain('family');
  const added = await nanoclaw(['groups', 'mcp', 'family', 'add', 'echo', '--package', ECHO_PACKAGE, '--', 'mcp-echo']);
  expect(added.stderr).toBe('');
  expect(added.stdout).toContain(
    `Added the MCP server "echo" to family (npm install ${ECHO_PACKAGE}, then run: mcp-echo)`,
  );
  expect(fs.existsSync(path.join(env.home, 'groups/family/.mcp/node_modules/.bin/mcp-echo'))).toBe(true);
  expect((await nanoclaw(['groups', 'mcp', 'family', 'list'])).stdout).toMatch(/^echo\s+npm install .*mcp-echo\n$/);

  const said = await ask('local:family', 'SHOUT_echo please', /^Tool said:/);
  // The server ran in the sandbox: its network is the sandbox's proxy, the runner's forwarder to the gateway.
  expect(said).toMatch(/^Tool said: ECHO HELLO THERE via proxy http:\/\/127\.0\.0\.1:\d+$/);
  expect(offered('Family', 'mcp__echo__shout')).toBe(true);

  // Another chat was not given it: the model is not offered the tool, and calling it answers nothing of the server.
  const other = await ask('local:friends', 'SHOUT_echo please', /^Tool said:/);
  expect(other).toBe('Tool said: <tool_use_error>Error: No such tool available: mcp__echo__shout</tool_use_error>');
  expect(offered('Friends', 'mcp__echo__shout')).toBe(false);
  expect(offered('Friends', 'mcp__nanoclaw__send_message')).toBe(true);

  // Removed: gone from the next turn on (the resumed conversation still names it from before).
  const removed = await nanoclaw(['groups', 'mcp', 'family', 'remove', 'echo']);
  expect(removed.stdout).toBe('Removed the MCP server "echo" from family.\n');
  const after = await ask('local:family', 'SHOUT_echo again', /^Tool said:/);
  expect(after).toBe('Tool said: <tool_use_error>Error: No such tool available: mcp__echo__shout</tool_use_error>');
}, 180_000);

test('a server that does not start is said in the chat, in status and in doctor, until it is removed', async () => {
  const res = await env.api(`/api/groups/${encodeURIComponent('local:friends')}/mcp`, {
    method: 'POST',
    json: { name: 'broken', package: ECHO_PACKAGE, command: 'mcp-echo', args: ['--fail'] },
  });
  expect(res.status).toBe(201);
  await env.send('local:friends', 'hello');
  await env.untilChat(
    'local:friends',
    (ms) => replies(ms).some((t) => t.startsWith('The MCP server "broken" did not start: mcp-echo exited with 3')),
    90_000,
    'the notice that the server did not start',
  );
  const notice = replies(await env.messages('local:friends')).find((t) => t.includes('"broken" did not start'))!;
  expect(notice).toContain('mcp-echo refused to start (it was asked to fail)');
  expect(notice).toContain('nanoclaw groups mcp friends remove broken');
  const status = await nanoclaw(['status']);
  expect(status.stdout).toContain('The MCP server "broken" of friends did not start: mcp-echo exited with 3');
  expect((await nanoclaw(['groups', 'mcp', 'friends', 'list'])).stdout).toContain('(did not start: mcp-echo exited');
  // doctor reports what the running host lists as problems, with the fix.
  expect((await nanoclaw(['doctor'])).stdout).toContain(
    'The MCP server "broken" of friends did not start: mcp-echo exited with 3',
  );

  // Removed, it is no longer a problem.
  expect((await nanoclaw(['groups', 'mcp', 'friends', 'remove', 'broken'])).code).toBe(0);
  expect((await nanoclaw(['status'])).stdout).not.toContain('"broken"');
}, 180_000);

test('bad input is refused with what to do', async () => {
  const url = `/api/groups/${encodeURIComponent('local:family')}/mcp`;
  const bad = await env.api(url, { method: 'POST', json: { name: 'Bad Name', command: 'x' } });
  expect(bad.status).toBe(400);
  expect((await bad.json()).error).toMatch(/^Not added: name: must be 1-32 lowercase letters or _/);
  const own = await env.api(url, { method: 'POST', json: { name: 'nanoclaw', command: 'x' } });
  expect((await own.json()).error).toContain("is the host's own server");
  const option = await env.api(url, { method: 'POST', json: { name: 'x', package: '--global', command: 'x' } });
  expect((await option.json()).error).toContain('must be an npm package spec');
  const missing = await env.api(url, {
    method: 'POST',
    json: { name: 'nope', package: path.join(os.tmpdir(), 'no-such-mcp-package-7d1e'), command: 'x' },
  });
  expect(missing.status).toBe(400);
  expect((await missing.json()).error).toContain('npm could not install');
  expect((await env.api(url)).status).toBe(200);
  expect(((await (await env.api(url)).json()) as any).servers).toEqual([]);
  const unknown = await nanoclaw(['groups', 'mcp', 'family', 'remove', 'ghost']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toBe('Not removed: family has no MCP server named "ghost".\n');
  const usage = await nanoclaw(['groups', 'mcp', 'family', 'add', 'echo', 'mcp-echo']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('add <name> [--package <npm package>] -- <command> [args...]');
}, 60_000);

/** The newest approval request in the main chat that mentions `needle`, after the first `seen`; answers its code. */
async function approvalCode(seen: number, needle: string): Promise<{ text: string; code: string }> {
  const asks = (ms: any[]) => replies(ms).filter((t) => /^Approval needed/.test(t));
  const ms = await env.untilChat(
    'local:main',
    (m) =>
      asks(m)
        .slice(seen)
        .some((t) => t.includes(needle)),
    60_000,
    `an approval request about ${needle}`,
  );
  const text = asks(ms)
    .slice(seen)
    .find((t) => t.includes(needle))!;
  return { text, code: /code ([A-Z2-9]{4})/.exec(text)![1] };
}
const approvalsSoFar = async () =>
  replies(await env.messages('local:main')).filter((t) => /^Approval needed/.test(t)).length;
async function ownerSays(text: string) {
  const res = await env.api(`/api/chats/${encodeURIComponent('local:main')}/messages`, {
    method: 'POST',
    json: { sender: 'local-user', text },
  });
  expect(res.status).toBe(202);
}

test('request_mcp_server: the owner sees exactly what would run; no adds nothing, yes adds it for the next turn', async () => {
  const url = `/api/groups/${encodeURIComponent('local:family')}/mcp`;
  const exact = 'run: mcp-echo --from-request';

  // The package is in the chat's folder from an earlier server the owner removed: removing keeps the package.
  expect(
    (await nanoclaw(['groups', 'mcp', 'family', 'add', 'old', '--package', ECHO_PACKAGE, '--', 'mcp-echo'])).code,
  ).toBe(0);
  expect((await nanoclaw(['groups', 'mcp', 'family', 'remove', 'old'])).code).toBe(0);

  // Something npm would read from the owner's machine is refused before the owner is bothered.
  let seen = await approvalsSoFar();
  expect(await ask('local:family', 'ASK_FOR_PATH', /^Tool said:/)).toMatch(
    /^Tool said: Refused: "\.\.\/\.\.\/\.\.\/\.ssh" is not a package name from the npm registry/,
  );
  expect(await approvalsSoFar()).toBe(seen);

  let before = replies(await env.messages('local:family')).length;
  await env.send('local:family', 'ASK_FOR_ECHO');
  const first = await approvalCode(seen, 'MCP server "asked"');
  expect(first.text).toContain(`MCP server "asked" for family: ${exact}`);
  await ownerSays(`no ${first.code}`);
  // (The SDK adds the tool's schema after an error from a tool the model had not loaded.)
  expect(await env.replyAfter('local:family', before, /^Tool said:/)).toMatch(
    /^Tool said: Refused: The owner declined this\. Do not try it another way; say so if it matters\.(\n|$)/,
  );
  expect(((await (await env.api(url)).json()) as any).servers).toEqual([]);

  seen = await approvalsSoFar();
  before = replies(await env.messages('local:family')).length;
  await env.send('local:family', 'ASK_FOR_ECHO');
  const second = await approvalCode(seen, 'MCP server "asked"');
  expect(second.text).toContain(exact);
  await ownerSays(`yes ${second.code}`);
  const added = await env.replyAfter('local:family', before, /^Tool said:/);
  expect(added).toContain('Added the MCP server "asked"');
  expect(((await (await env.api(url)).json()) as any).servers.map((s: any) => s.name)).toEqual(['asked']);

  // The next message gets a fresh sandbox with the server's tools.
  expect(await ask('local:family', 'SHOUT_asked now', /^Tool said:/)).toMatch(/^Tool said: ECHO HELLO THERE via proxy/);
}, 240_000);

/** Every file under `dir`, read whole (what the sandbox sees of the chat's folder). */
const filesUnder = (dir: string): string[] =>
  fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'latin1'));

test('a remote server through the gateway: the host adds its bearer token, which never enters the sandbox', async () => {
  const url = `${remoteBase}/mcp`;
  // The token is piped in: while the command waits for it, what `ps` shows of it has no token.
  let shownByPs = '';
  const added = await nanoclaw(['groups', 'mcp', 'family', 'add', 'remote', '--url', url, '--bearer'], async (cli) => {
    shownByPs = await commandLineOf(cli.pid!);
    cli.stdin.end(`${REMOTE_TOKEN}\n`);
  });
  expect(shownByPs).toContain(`groups mcp family add remote --url ${url} --bearer`);
  expect(shownByPs).not.toContain(REMOTE_TOKEN);
  expect(added.stderr).toBe('');
  expect(added.stdout).toContain(`(reach ${url} (the host adds its Authorization header))`);
  expect(added.stdout).not.toContain(REMOTE_TOKEN);
  expect((await nanoclaw(['groups', 'mcp', 'family', 'list'])).stdout).not.toContain(REMOTE_TOKEN);
  expect(await (await env.api(`/api/groups/${encodeURIComponent('local:family')}/mcp`)).text()).not.toContain(
    REMOTE_TOKEN,
  );

  expect(await ask('local:family', 'SHOUT_remote please', /^Tool said:/)).toBe('Tool said: REMOTE HELLO THERE');
  const saw = remoteSaw.filter((a) => a.path === '/mcp');
  expect(saw.length).toBeGreaterThan(0);
  expect(saw.every((a) => a.authorization === `Bearer ${REMOTE_TOKEN}`)).toBe(true);

  // Inside: the sandbox's environment and the chat's files never held it, and neither did the model.
  const shown = await ask('local:family', 'DUMP_ENV', /^Tool said:/);
  expect(shown).toContain('NANOCLAW_MCP_SERVERS=');
  expect(shown).not.toContain(REMOTE_TOKEN);
  expect(filesUnder(path.join(env.home, 'groups')).some((t) => t.includes(REMOTE_TOKEN))).toBe(false);
  expect(env.fake.requests.some((r) => JSON.stringify(r.body).includes(REMOTE_TOKEN))).toBe(false);

  // Another chat's sandbox asking the gateway for it is refused: the endpoint, not the path, says whose it is.
  const other = await ask('local:friends', 'SHOUT_remote please', /^Tool said:/);
  expect(other).toBe('Tool said: <tool_use_error>Error: No such tool available: mcp__remote__shout</tool_use_error>');
  const calls = remoteSaw.length;
  const direct = await ask('local:friends', 'CALL_REMOTE_DIRECTLY', /^Tool said:/);
  expect(direct).toMatch(/^Tool said: HTTP\/1\.1 404/);
  expect(direct).toContain('This chat has no remote MCP server named \\"remote\\".');
  expect(remoteSaw.length).toBe(calls);
}, 180_000);

test('a token given on the command line is refused with what to run instead, and nothing is added', async () => {
  const remoteUrl = `${remoteBase}/mcp`;
  const list = async () => (await nanoclaw(['groups', 'mcp', 'family', 'list'])).stdout;
  const before = await list();

  const addLeaky = (...given: string[]) =>
    nanoclaw(['groups', 'mcp', 'family', 'add', 'leaky', '--url', remoteUrl, ...given]);

  const bearer = await addLeaky('--bearer', REMOTE_TOKEN);
  expect(bearer.code).toBe(2);
  expect(bearer.stdout + bearer.stderr).not.toContain(REMOTE_TOKEN);
  expect(bearer.stderr).toContain('every user of this machine sees it in "ps"');
  expect(bearer.stderr).toContain("shell's history");
  expect(bearer.stderr).toContain(`  nanoclaw groups mcp family add leaky --url ${remoteUrl} --bearer\n`);
  expect(bearer.stderr).toContain(
    `  printf %s "$TOKEN" | nanoclaw groups mcp family add leaky --url ${remoteUrl} --bearer\n`,
  );

  const header = await addLeaky('--header', `X-Api-Key: ${REMOTE_KEY}`);
  expect(header.code).toBe(2);
  expect(header.stdout + header.stderr).not.toContain(REMOTE_KEY);
  expect(header.stderr).toContain(
    `  printf %s "$TOKEN" | nanoclaw groups mcp family add leaky --url ${remoteUrl} --header X-Api-Key\n`,
  );

  // Nothing piped in, or a header that is no header name: said, and nothing added either.
  const empty = await nanoclaw(['groups', 'mcp', 'family', 'add', 'leaky', '--url', remoteUrl, '--bearer'], '\n');
  expect(empty.code).toBe(2);
  expect(empty.stderr).toBe('Nothing entered; nothing added.\n');
  const badName = await addLeaky('--header', 'X_Key');
  expect(badName.code).toBe(2);
  expect(badName.stderr).toBe(
    'Not added: a header name has only letters, digits and dashes (such as X-Api-Key); its value is asked for.\n',
  );

  expect(await list()).not.toContain('leaky');
  expect(await list()).toBe(before);
}, 60_000);

test('a remote server with an API key header: the value piped in reaches the server as that header', async () => {
  const remoteUrl = `${remoteBase}/keyed`;
  const added = await nanoclaw(
    ['groups', 'mcp', 'family', 'add', 'keyed', '--url', remoteUrl, '--header', 'X-Api-Key'],
    REMOTE_KEY,
  );
  expect(added.stderr).toBe('');
  expect(added.stdout).toContain(`(reach ${remoteUrl} (the host adds its X-Api-Key header))`);
  expect(added.stdout).not.toContain(REMOTE_KEY);

  expect(await ask('local:family', 'SHOUT_keyed please', /^Tool said:/)).toBe('Tool said: REMOTE HELLO THERE');
  const saw = remoteSaw.filter((a) => a.path === '/keyed');
  expect(saw.length).toBeGreaterThan(0);
  expect(saw.every((a) => a.apiKey === REMOTE_KEY && a.authorization === undefined)).toBe(true);
}, 180_000);
