// request_mcp_server: an agent asks for more tools; the owner sees exactly what would be installed and run.
import { ok, refuse } from '../../core/tools/answer.js';
import { tool, type HostTool } from '../../core/tools/registry.js';
import { requestMcpServer } from './definitions.js';
import { addServer, serverInput, whatRuns, type ServerDeps } from './servers.js';

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
