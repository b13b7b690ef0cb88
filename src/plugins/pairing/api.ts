// DM pairing: see who is waiting, approve a code.
//   GET  /api/pairing                → { pending }
//   POST /api/pairing/:code/approve  → { group }
import { Hono } from 'hono';
import type { Result } from '../../core/groups/registration.js';
import type { PairingRequest } from './store.js';
import type { RegisteredGroup } from '../../core/types.js';
import { ApiError } from '../../core/api/errors.js';
import type { GroupResponse } from '../../core/api/types.js';

export interface PairingApiDeps {
  pendingPairings(): PairingRequest[];
  approvePairing(code: string): Result<RegisteredGroup>;
}

export function pairingApi(deps: PairingApiDeps): Hono {
  const app = new Hono();
  app.get('/api/pairing', (c) => c.json<PairingResponse>({ pending: deps.pendingPairings() }));
  app.post('/api/pairing/:code/approve', (c) => {
    const code = c.req.param('code');
    if (!/^[A-Za-z0-9]{6}$/.test(code)) throw new ApiError('invalid', 'A pairing code is 6 letters and digits.');
    const res = deps.approvePairing(code);
    if (!res.ok) throw new ApiError('not_found', res.error);
    return c.json<GroupResponse>({ group: res.value });
  });
  return app;
}

/** GET /api/pairing. */
export interface PairingResponse {
  pending: PairingRequest[];
}
