// The local HTTP API's server.
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../config/config.js';

export function listen(fetch: Parameters<typeof serve>[0]['fetch'], config: Config): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const s = serve({ fetch, port: config.httpPort, hostname: config.httpHost }, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `Port ${config.httpPort} on ${config.httpHost} is in use: is NanoClaw already running? Stop it or set NANOCLAW_HTTP_PORT.`,
            )
          : err,
      ),
    );
  });
}
