// API routes for DM pairing: see who is waiting, approve a code.
import type { Hono } from 'hono';
import type { Host } from '../../host.js';

export function mountPairingApi(app: Hono, host: Pick<Host, 'approvePairing' | 'pendingPairings'>): void {
  app.get('/api/pairing', (c) => c.json({ pending: host.pendingPairings() }));
  app.post('/api/pairing/:code/approve', (c) => {
    const code = c.req.param('code');
    if (!/^[A-Za-z0-9]{6}$/.test(code)) return c.json({ error: 'A pairing code is 6 letters and digits.' }, 400);
    const res = host.approvePairing(code);
    return res.ok ? c.json({ group: res.value }) : c.json({ error: res.error }, 404);
  });
}
