// Bounded input from channel endpoints: a body is read up to a cap and a line
// (or event) stream may not run past a cap without ending one, so an endpoint
// that sends without end costs a dropped connection, never the host's memory.

/** An endpoint sent more than we read: the connection was dropped. */
export class InputTooLarge extends Error {
  constructor(
    readonly what: string,
    readonly maxBytes: number,
  ) {
    super(`${what} was larger than ${formatBytes(maxBytes)}; the connection was dropped`);
  }
}

/** A small API answer (a token check, a JSON-RPC reply): far more than any real one. */
export const ANSWER_MAX_BYTES = 1024 * 1024;

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MB` : `${Math.round(n / 1024)} KB`;
}

/** The body as text, refusing (and cancelling the rest) past `maxBytes`, whatever Content-Length claims. */
export async function readBody(res: Response, maxBytes: number, what: string): Promise<string> {
  if (!res.body) return '';
  const claimed = Number(res.headers.get('content-length'));
  if (claimed > maxBytes) {
    await res.body.cancel().catch(() => {});
    throw new InputTooLarge(what, maxBytes);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new InputTooLarge(what, maxBytes);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The body parsed as JSON, or null when it is not JSON; throws InputTooLarge past `maxBytes`. */
export async function readJson<T>(res: Response, maxBytes: number, what: string): Promise<T | null> {
  const text = await readBody(res, maxBytes, what);
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/**
 * Counts the bytes of a stream since its last complete unit (a line, an event):
 * `feed` each chunk, call `ended` when the parser completes one; `feed` throws
 * InputTooLarge once a unit runs past `maxBytes`.
 */
export function createUnitCap(maxBytes: number, what: string): { feed(chunk: Uint8Array): void; ended(): void } {
  let pending = 0;
  return {
    feed(chunk) {
      pending += chunk.byteLength;
      if (pending > maxBytes) throw new InputTooLarge(what, maxBytes);
    },
    ended() {
      pending = 0;
    },
  };
}
