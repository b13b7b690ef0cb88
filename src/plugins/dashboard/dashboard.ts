// The web dashboard: hand-written static files from src/plugins/dashboard/public (no
// build step), plus the two read-only routes only the dashboard needs. The page
// itself is public; everything it shows comes from /api/* with the bearer token,
// sent as a header (never a cookie), so other sites cannot act through it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Hono, type Context } from 'hono';
import { projectRoot } from '../../core/config/project-root.js';
import { ApiError } from '../../core/api/errors.js';
import type { StatusResponse } from '../../core/api/types.js';
import { qrSvg } from './qr-svg.js';

/** GET /api/errors. */
type ErrorsResponse = {
  errors: { at: string; groupFolder: string | null; chatJid: string | null; message: string }[];
};

export interface DashboardDeps {
  status(): StatusResponse;
  recentErrors(limit: number): ErrorsResponse['errors'];
  /** Where the static files are (default: src/plugins/dashboard/public in the package). */
  publicDir?: string;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function defaultPublicDir(): string {
  return path.join(projectRoot(), 'src', 'plugins', 'dashboard', 'public');
}

/** Reads every file under `dir` once; the whole dashboard is a few tens of KB. */
export function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile() && TYPES[path.extname(entry.name)]) {
        const body = fs.readFileSync(path.join(dir, rel));
        assets.set(rel, {
          body,
          type: TYPES[path.extname(entry.name)],
          etag: `"${crypto.createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`,
        });
      }
    }
  };
  walk('');
  if (!assets.has('index.html'))
    throw new Error(`The dashboard's index.html is missing from ${dir}; reinstall NanoClaw.`);
  return assets;
}

function serve(c: Context, asset: Asset): Response {
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-type': asset.type,
    etag: asset.etag,
    'cache-control': 'no-cache',
  };
  if (c.req.header('if-none-match') === asset.etag) {
    // Without a type: the API's redaction step rewrites every text answer, and a 304 has no body to rewrite.
    delete headers['content-type'];
    return new Response(null, { status: 304, headers });
  }
  return new Response(new Uint8Array(asset.body), { status: 200, headers });
}

export function dashboardApp(deps: DashboardDeps): Hono {
  const app = new Hono();
  const assets = loadAssets(deps.publicDir ?? defaultPublicDir());
  const index = assets.get('index.html')!;
  app.get('/', (c) => serve(c, index));
  // One explicit route per file: nothing outside the folder can be asked for,
  // and no catch-all shadows routes other modules add later.
  for (const [rel, asset] of assets) {
    if (rel !== 'index.html') app.get(`/ui/${rel}`, (c) => serve(c, asset));
  }

  app.get('/api/errors', (c) => {
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 20) || 20, 1), 200);
    return c.json<ErrorsResponse>({ errors: deps.recentErrors(limit) });
  });

  app.get('/api/channels/:name/qr.svg', (c) => {
    const channel = deps.status().channels.find((ch) => ch.name === c.req.param('name'));
    if (!channel) throw new ApiError('not_found', `No channel named "${c.req.param('name').slice(0, 40)}" is running.`);
    const qr = channel.linking?.qr;
    if (!qr)
      throw new ApiError(
        'not_found',
        `${channel.name} is not waiting for a QR scan${channel.connected ? ': it is connected' : ''}.`,
      );
    let svg: string;
    try {
      svg = qrSvg(qr);
    } catch (err) {
      throw new ApiError('internal', `Could not draw the QR code: ${(err as Error).message}`);
    }
    return c.body(svg, 200, {
      'content-type': 'image/svg+xml',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
  });

  return app;
}
