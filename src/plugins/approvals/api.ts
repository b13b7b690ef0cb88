// "Ask me first": what waits for the owner and what was decided (the audit trail).
//   GET  /api/approvals                        → { pending, history }
//   POST /api/approvals/:id/yes|no|always      { by? } → { request, text }
// The API token is the owner's, so an answer here is the owner's answer.
import { Hono } from 'hono';
import type { Approvals, Verb } from './approvals.js';
import { ApiError } from '../../core/api/errors.js';

export type ApprovalsApiDeps = Pick<Approvals, 'pending' | 'history' | 'answerById'>;

export function approvalsApi(deps: ApprovalsApiDeps): Hono {
  const app = new Hono();
  app.get('/api/approvals', (c) => c.json({ pending: deps.pending(), history: deps.history(200) }));
  app.post('/api/approvals/:id/:verb', async (c) => {
    const { id, verb } = c.req.param();
    if (!['yes', 'no', 'always'].includes(verb)) throw new ApiError('invalid', 'Answer with yes, no or always.');
    const body = (await c.req.json().catch(() => ({}))) as { by?: unknown };
    const by = typeof body.by === 'string' && /^[a-z]{1,20}$/.test(body.by) ? body.by : 'api';
    const res = deps.answerById(id, verb as Verb, `owner via ${by}`);
    if (!res.ok) throw new ApiError('conflict', res.text);
    return c.json({ request: res.request, text: res.text });
  });
  return app;
}
