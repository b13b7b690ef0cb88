// request_mcp_server: an agent asks for more tools; the owner sees exactly what would be installed and run.
import { define } from '../../core/tools/definitions.js';
import { ok, refuse } from '../../core/tools/answer.js';
import { tool, type HostTool } from '../../core/tools/registry.js';
import { addServer, serverInput, whatRuns, type ServerDeps } from './servers.js';

const { name, package: pkg, command, args, url } = serverInput.shape;

export const requestMcpServer = define({
  name: 'request_mcp_server',
  description:
    'Ask the owner to give this chat an MCP server (more tools): an npm package installed into this chat and the command that starts it over stdio, or the URL of a remote one (the owner adds any credential). Once approved, its tools (mcp__<name>__<tool>) are yours from the next message on.',
  args: {
    name: name.describe('Short name; the tools appear as mcp__<name>__<tool>'),
    package: pkg.describe('The npm package to install, e.g. @modelcontextprotocol/server-memory'),
    command: command.describe("The command that starts the server (a package's bin name, or a path)"),
    args: args.describe('Its arguments'),
    url: url.describe('A remote server: its streamable HTTP URL (instead of a command)'),
  },
});

export function createMcpTools(deps: ServerDeps): HostTool[] {
  return [
    tool(
      requestMcpServer,
      async (identity, args) => {
        const group = deps.store.groups.get(identity.chatJid);
        if (!group) return refuse('This chat is not registered.');
        const input = serverInput.safeParse(args);
        if (!input.success) return refuse(`Not added: ${input.error.issues.map((i) => i.message).join('; ')}`);
        try {
          const s = await addServer(deps, group, input.data);
          return ok(`Added the MCP server "${s.name}" (${whatRuns(s)}); its tools are yours from the next message on.`);
        } catch (err) {
          return refuse(`Not added: ${(err as Error).message}`);
        }
      },
      {
        // Input the handler refuses is not worth the owner's time.
        approval: (identity, input) =>
          serverInput.safeParse(input).success
            ? {
                kind: 'mcp',
                detail: `MCP server "${input.name}" for ${identity.groupFolder}: ${whatRuns(input)}`,
                what: `add the MCP server "${input.name}"`,
              }
            : null,
      },
    ),
  ];
}
