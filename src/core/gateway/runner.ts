// The runner's calls, always for its endpoint's group whatever a body claims: its turn protocol, the host's yes or
// no before a built-in tool, and the nanoclaw tools.
import { Hono } from 'hono';
import type { GatewayDeps, GatewayEnv } from './types.js';
import { readBody } from './wire.js';

export const runnerApi = ({ approver, hooks }: GatewayDeps) =>
  new Hono<GatewayEnv>()
    .get('/runner/start', (c) => c.json(c.env.handlers.start()))
    // A runner that hangs up ends the wait.
    .get('/runner/next', async (c) => c.json(await c.env.handlers.next(c.req.raw.signal)))
    // Every call, an unknown one too, is JSON within 1 MB.
    .post('*', async (c, next) => {
      const raw = await readBody(c.env.incoming, 1024 * 1024);
      if (!raw) return c.json({ ok: false, error: 'Call body over 1 MB.' }, 413);
      try {
        c.set('body', raw.length ? JSON.parse(raw.toString('utf8')) : {});
      } catch {
        return c.json({ ok: false, error: 'Call body is not valid JSON.' }, 400);
      }
      await next();
    })
    .post('/runner/event', (c) => {
      const event = c.var.body;
      if (typeof event?.type !== 'string') return c.json({ ok: false, error: 'Event needs a type.' }, 400);
      c.env.handlers.event(event);
      for (const h of hooks) h.onRunnerEvent?.(c.env.identity, event);
      return c.json({ ok: true });
    })
    .post('/runner/settle', async (c) => c.json({ ok: true, message: (await c.env.handlers.settle?.()) ?? null }))
    .post('/approvals/tool', async (c) => {
      const { tool_name, input } = c.var.body ?? {};
      if (typeof tool_name !== 'string') return c.json({ ok: false, error: 'An approval check needs tool_name.' }, 400);
      return c.json({ ok: true, ...(await approver.runnerTool(c.env.identity, tool_name, input)) });
    })
    .post('/tools/:name{[a-z_]{1,40}}', async (c) =>
      c.json(await c.env.handlers.tool(c.req.param('name'), c.var.body)),
    );
