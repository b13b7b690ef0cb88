// Runs inside the sandbox, mounted alone at /app/plugins/mcp.js: it may import only node built-ins (and types).
// Gives the SDK the chat's own MCP servers, each started through this file, which notes whether it came up.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const ME = '/app/plugins/mcp.js';
/** Where `npm install --prefix groups/<folder>/.mcp` put the packages' commands. */
const BIN = '/workspace/group/.mcp/node_modules/.bin';
/** One note per server start, <name>.json: { ok: true } or { ok: false, why }; the host reads and removes them. */
const NOTES = '/workspace/group/.mcp/started';

type Server = { name: string; command: string; args: string[]; remote: boolean };

/** The list the host put in the environment: a remote server is the gateway's /mcp/<name>, through the forwarder. */
export const mcpServers = () =>
  Object.fromEntries(
    (JSON.parse(process.env.NANOCLAW_MCP_SERVERS || '[]') as Server[]).map((s) => [
      s.name,
      s.remote
        ? { type: 'http' as const, url: `http://127.0.0.1:${process.env.NANOCLAW_LOCAL_PORT}/mcp/${s.name}` }
        : { type: 'stdio' as const, command: process.execPath, args: [ME, s.name, s.command, ...s.args] },
    ]),
  );

function note(name: string, said: { ok: boolean; why?: string }) {
  fs.mkdirSync(NOTES, { recursive: true });
  fs.writeFileSync(`${NOTES}/${name}.json`, JSON.stringify(said));
}

// Started by the SDK as `node mcp.js <name> <command> [args]`: the server speaks on stdout; until it has said
// something, its exit or a failed start is a server that did not start.
if (process.argv[1] === ME) {
  const [name, command, ...args] = process.argv.slice(2);
  const installed = `${BIN}/${command}`;
  const child = spawn(command.includes('/') || !fs.existsSync(installed) ? command : installed, args, {
    stdio: ['inherit', 'pipe', 'pipe'],
  });
  let answered = false;
  let tail = '';
  const fail = (why: string) => {
    if (!answered) note(name, { ok: false, why: why.replace(/\s+/g, ' ').trim().slice(0, 300) });
    process.exit(1);
  };
  child.stdout.on('data', (d: Buffer) => {
    if (!answered) note(name, { ok: true });
    answered = true;
    process.stdout.write(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    process.stderr.write(d);
    tail = (tail + d.toString()).slice(-400);
  });
  child.on('error', (err) => fail(`${command} could not be run (${err.message})`));
  child.on('exit', (code, signal) =>
    code || (!answered && !signal) ? fail(`${command} exited with ${code}${tail ? `: ${tail}` : ''}`) : process.exit(0),
  );
}
