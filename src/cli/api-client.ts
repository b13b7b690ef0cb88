// How CLI commands reach a running host: the local HTTP API with the token
// from data/api-token.
import fs from 'node:fs';
import type { Config } from '../core/config/config.js';
import { homePaths } from '../core/config/home.js';
import type { ErrorResponse } from '../core/api/types.js';

export interface ApiClient {
  base: string;
  token: string;
  request(pathname: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

/** The running host's address, written by `start` to data/host.json. */
export function hostAddress(config: Config): string {
  try {
    const info = JSON.parse(fs.readFileSync(`${homePaths(config.home).data}/host.json`, 'utf8'));
    if (typeof info.url === 'string') return info.url;
  } catch {
    /* fall back to the configured port */
  }
  return `http://127.0.0.1:${config.httpPort}`;
}

/**
 * The body of an API answer as the route declares it (src/web/api/types.ts):
 * T when res.ok, ErrorResponse otherwise.
 */
export async function readBody<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Why the API refused, in its own words, or its status when the body says nothing. */
export async function refusal(res: Response): Promise<string> {
  const body = await readBody<Partial<ErrorResponse>>(res).catch((): Partial<ErrorResponse> => ({}));
  return body.error ?? `the API answered ${res.status}`;
}

export function apiClient(config: Config): ApiClient {
  const paths = homePaths(config.home);
  let token = '';
  try {
    token = fs.readFileSync(paths.apiToken, 'utf8').trim();
  } catch {
    throw new Error(
      `No API token at ${paths.apiToken}: start NanoClaw once in ${config.home} (npm start), or set NANOCLAW_HOME.`,
    );
  }
  const base = hostAddress(config);
  return {
    base,
    token,
    request(pathname, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      return fetch(base + pathname, { ...init, headers, body }).catch((err) => {
        throw new Error(
          `NanoClaw is not running at ${base} (${(err as Error).cause ?? err}). Start it with "npm start".`,
        );
      });
    },
  };
}
