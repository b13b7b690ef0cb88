// MCP servers per chat: the owner (or an approved request_mcp_server) gives a chat more tools: a stdio server
// installed into its own folder and run inside its sandbox, where its network is the chat's egress policy, or a remote
// server reached through the gateway, which adds its credential on the host.
import type { Plugin } from '../../core/plugin.js';
import { runnerModule } from '../../core/sandbox/mounts.js';
import { registerSecret } from '../../core/secrets.js';
import { mcpApi } from './api.js';
import { mcpRoutes } from './gateway.js';
import { readStarts, type ServerDeps } from './servers.js';
import { migrations, mcpStore } from './store.js';
import { createMcpTools } from './tools.js';

declare module '../../core/types.js' {
  interface ApprovalKinds {
    mcp: true;
  }
}

export const mcp: Plugin = {
  name: 'mcp',
  migrations,
  store: mcpStore,
  approvalKinds: { mcp: { mode: 'ask', words: 'install and run an MCP server (more tools) in its chat' } },
  setup({ store, paths, agents }) {
    // A credential is hidden wherever text leaves the host (logs, API answers), like the host's own.
    for (const secret of store.mcp.secrets()) registerSecret('MCP_SERVER_CREDENTIAL', secret);
    // A live agent keeps the servers it started with; closing it after its turn gives the next one the new list.
    const deps: ServerDeps = { store, paths, renew: (jid) => agents.get(jid)?.close() };
    const tell = (jid: string, text: string) => void store.outbox.enqueue(jid, text, { kind: 'system' });
    return {
      tools: createMcpTools(deps),
      api: (app) => app.route('/', mcpApi(deps)),
      gateway: { routes: mcpRoutes(store) },
      sandbox({ group }) {
        const servers = store.mcp.list(group.folder);
        if (!servers.length) return;
        const started = () => readStarts({ ...deps, tell }, group);
        return {
          mounts: [runnerModule('mcp')],
          env: {
            // Names, commands and arguments only: a remote server's URL and credential stay on the host.
            NANOCLAW_MCP_SERVERS: JSON.stringify(
              servers.map(({ name, command, args, url }) => ({ name, command, args, remote: !!url })),
            ),
          },
          settle: async () => (started(), null),
          end: started,
        };
      },
      problems: () =>
        store.mcp
          .failed()
          .map(
            (s) =>
              `The MCP server "${s.name}" of ${s.groupFolder} did not start: ${s.failure}. Fix it, or remove it with "nanoclaw groups mcp ${s.groupFolder} remove ${s.name}".`,
          ),
    };
  },
};
