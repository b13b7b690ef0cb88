// A chat's MCP servers, behind the local API's token (the CLI's and the dashboard's):
//   GET    /api/groups/:jid/mcp        → { servers }
//   POST   /api/groups/:jid/mcp        { name, package?, command, args? } → 201 { server }  (installs the package first)
//   DELETE /api/groups/:jid/mcp/:name  → { removed: name }
import { Hono } from 'hono';
import { ApiError, check, jsonBody } from '../../core/api/errors.js';
import { addServer, removeServer, serverInput, type ServerDeps } from './servers.js';
import type { McpServer } from './store.js';

export type McpServersResponse = { servers: McpServer[] };
export type McpServerResponse = { server: McpServer };

export function mcpApi(deps: ServerDeps): Hono {
  const app = new Hono();
  const groupOf = (jid: string) => {
    const group = deps.store.groups.get(jid);
    if (!group) throw new ApiError('not_found', `No registered group has the jid ${jid}; see GET /api/groups.`);
    return group;
  };
  app.get('/api/groups/:jid/mcp', (c) =>
    c.json<McpServersResponse>({ servers: deps.store.mcp.list(groupOf(c.req.param('jid')).folder) }),
  );
  app.post('/api/groups/:jid/mcp', async (c) => {
    const group = groupOf(c.req.param('jid'));
    const input = check(
      serverInput,
      await jsonBody(c, 'Body must be JSON: { name, package?, command, args? }.'),
      'Not added: ',
    );
    try {
      return c.json<McpServerResponse>({ server: await addServer(deps, group, input) }, 201);
    } catch (err) {
      throw new ApiError('invalid', (err as Error).message);
    }
  });
  app.delete('/api/groups/:jid/mcp/:name', (c) => {
    const group = groupOf(c.req.param('jid'));
    const name = c.req.param('name');
    if (!removeServer(deps, group, name))
      throw new ApiError('not_found', `${group.folder} has no MCP server named "${name}".`);
    return c.json({ removed: name });
  });
  return app;
}
