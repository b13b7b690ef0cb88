// GET /api/status: whether the assistant is working (runtime, channels, agents, queue).
import { Hono } from 'hono';
import type { StatusResponse } from './types.js';

export interface StatusApiDeps {
  status(): StatusResponse;
}

export function statusApi(deps: StatusApiDeps): Hono {
  return new Hono().get('/api/status', (c) => c.json<StatusResponse>(deps.status()));
}
