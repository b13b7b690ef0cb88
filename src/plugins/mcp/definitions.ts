// The mcp plugin's tool, as the model sees it (the host parses each call again, with the rules of the API).
import { define } from '../../core/tools/definitions.js';
import { serverInput } from './servers.js';

const { name, package: pkg, command, args, url } = serverInput.shape;

export const requestMcpServer = define({
  name: 'request_mcp_server',
  description:
    'Ask the owner to give this chat an MCP server (more tools): an npm package installed into this chat and the command that starts it over stdio, or the URL of a remote one (the owner adds any credential). Once approved, its tools (mcp__<name>__<tool>) are yours from the next message on.',
  args: {
    name: name.describe('Short name; the tools appear as mcp__<name>__<tool>'),
    package: pkg.describe('The npm registry package to install, e.g. @modelcontextprotocol/server-memory'),
    command: command.describe("The command that starts the server (a package's bin name, or a path)"),
    args: args.describe('Its arguments'),
    url: url.describe('A remote server: its streamable HTTP URL (instead of a command)'),
  },
});
