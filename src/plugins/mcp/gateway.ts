// A remote MCP server as the sandbox reaches it: http://127.0.0.1:<forwarder>/mcp/<name>, which the gateway answers
// by calling the server's URL from the host with the credential added here, so the sandbox never holds it.
import type { Hono } from 'hono';
import type { GatewayEnv } from '../../core/gateway/gateway.js';
import type { Store } from '../../core/store/index.js';

// What MCP's streamable HTTP transport sends and answers with; nothing else passes either way.
const ASKED = ['accept', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'];
const ANSWERED = ['content-type', 'mcp-session-id', 'mcp-protocol-version'];

const pick = (names: string[], get: (name: string) => string | null | undefined) => {
  const headers = new Headers();
  for (const n of names) {
    const v = get(n);
    if (v) headers.set(n, v);
  }
  return headers;
};

export const mcpRoutes = (store: Store) => (app: Hono<GatewayEnv>) =>
  app.on(['GET', 'POST', 'DELETE'], '/mcp/:name', async (c) => {
    const name = c.req.param('name');
    // The endpoint says which chat calls: only its own servers are reached.
    const server = store.mcp.remote(c.env.identity.groupFolder, name);
    if (!server) return c.json({ error: `This chat has no remote MCP server named "${name}".` }, 404);
    const headers = pick(ASKED, (n) => c.req.header(n));
    if (server.header && server.secret) headers.set(server.header, server.secret);
    const body = c.req.method === 'POST' ? JSON.stringify(c.var.body) : undefined;
    const res = await fetch(server.url, { method: c.req.method, headers, body, signal: c.req.raw.signal }).catch(
      (err: Error) => err,
    );
    if (res instanceof Error)
      return c.json({ error: `The MCP server "${name}" at ${server.url} could not be reached: ${res.message}` }, 502);
    return new Response(res.body, { status: res.status, headers: pick(ANSWERED, (n) => res.headers.get(n)) });
  });
