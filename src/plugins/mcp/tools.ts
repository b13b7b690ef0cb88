// request_mcp_server: an agent asks for more tools; the owner sees exactly what would be installed and run.
import { ok, refuse } from '../../core/tools/answer.js';
import { tool, type HostTool } from '../../core/tools/registry.js';
import { requestMcpServer } from './definitions.js';
import { addServer, serverInput, whatRuns, type ServerDeps } from './servers.js';

// An agent names a package on the npm registry, nothing npm would read from this machine (a path, file:, a git URL).
const REGISTRY_PACKAGE = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(@[\w.^~<>=*-]+)?$/i;

/** The call as the host will run it, or why not. */
function checked(args: unknown) {
  const input = serverInput.safeParse(args);
  if (!input.success) return `${input.error.issues.map((i) => i.message).join('; ')}`;
  if (input.data.package && !REGISTRY_PACKAGE.test(input.data.package))
    return `"${input.data.package}" is not a package name from the npm registry (such as @scope/name@1.2.3); the owner can add others with "nanoclaw groups mcp".`;
  return input.data;
}

export function createMcpTools(deps: ServerDeps): HostTool[] {
  return [
    tool(
      requestMcpServer,
      async (identity, args) => {
        const group = deps.store.groups.get(identity.chatJid);
        if (!group) return refuse('This chat is not registered.');
        const input = checked(args);
        if (typeof input === 'string') return refuse(input);
        try {
          const s = await addServer(deps, group, input);
          return ok(`Added the MCP server "${s.name}" (${whatRuns(s)}); its tools are yours from the next message on.`);
        } catch (err) {
          return refuse((err as Error).message);
        }
      },
      {
        // Input the handler refuses is not worth the owner's time.
        approval: (identity, input) =>
          typeof checked(input) !== 'string'
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
