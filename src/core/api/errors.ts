// Routes throw ApiError; its code alone picks the HTTP status, here and nowhere else.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export type ApiErrorCode = 'invalid' | 'unauthorized' | 'not_found' | 'conflict' | 'too_large' | 'storage' | 'internal';

const STATUS: Record<ApiErrorCode, ContentfulStatusCode> = {
  invalid: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  storage: 503,
  internal: 500,
};

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function statusFor(code: ApiErrorCode): ContentfulStatusCode {
  return STATUS[code];
}

export function errorResponse(err: unknown, c: Context): Response {
  if (err instanceof ApiError) return c.json({ error: err.message }, statusFor(err.code));
  return c.json(
    { error: `Internal error: ${(err as Error)?.message ?? String(err)}. See logs/nanoclaw.log.` },
    statusFor('internal'),
  );
}

export async function jsonBody(c: Context, expected: string): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new ApiError('invalid', expected);
  }
}

export async function objectBody(c: Context, expected: string): Promise<Record<string, unknown>> {
  const body = await jsonBody(c, expected);
  if (!body || typeof body !== 'object') throw new ApiError('invalid', 'Body must be a JSON object.');
  return body as Record<string, unknown>;
}
