// Routes throw ApiError; its code alone picks the HTTP status, here and nowhere else.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

const STATUS = {
  invalid: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  storage: 503,
  internal: 500,
};
export type ApiErrorCode = keyof typeof STATUS;
export const statusFor = (code: ApiErrorCode) => STATUS[code] as ContentfulStatusCode;

export class ApiError extends Error {
  name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const errorResponse = (err: unknown, c: Context): Response =>
  err instanceof ApiError
    ? c.json({ error: err.message }, statusFor(err.code))
    : c.json({ error: `Internal error: ${(err as Error)?.message ?? String(err)}. See logs/nanoclaw.log.` }, 500);

export const jsonBody = (c: Context, notJson: string): Promise<unknown> =>
  c.req.json().catch(() => {
    throw new ApiError('invalid', notJson);
  });

export async function objectBody(c: Context, notJson: string): Promise<Record<string, unknown>> {
  const body = await jsonBody(c, notJson);
  if (!body || typeof body !== 'object') throw new ApiError('invalid', 'Body must be a JSON object.');
  return body as Record<string, unknown>;
}

/** `value` as `schema` reads it, or a 400: `refused` and what is wrong with each field. */
export function check<T>(schema: z.ZodType<T>, value: unknown, refused: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ApiError(
    'invalid',
    refused + r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
  );
}
