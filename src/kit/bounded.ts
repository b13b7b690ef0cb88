// Bounded input from channel endpoints: one that sends without end costs a dropped connection, never memory.

export class InputTooLarge extends Error {
  constructor(what: string, maxBytes: number) {
    super(`${what} was larger than ${formatBytes(maxBytes)}; the connection was dropped`);
  }
}

export const ANSWER_MAX_BYTES = 1024 * 1024;

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MB` : `${Math.round(n / 1024)} KB`;
}

/** Refuses past `maxBytes`, whatever Content-Length claims. */
export async function readBody(res: Response, maxBytes: number, what: string): Promise<string> {
  if (!res.body) return '';
  if (Number(res.headers.get('content-length')) > maxBytes) {
    await res.body.cancel().catch(() => {});
    throw new InputTooLarge(what, maxBytes);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  // Leaving the loop by a throw cancels the stream.
  for await (const chunk of res.body) {
    if ((total += chunk.byteLength) > maxBytes) throw new InputTooLarge(what, maxBytes);
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

export async function readJson<T>(res: Response, maxBytes: number, what: string): Promise<T | null> {
  const text = await readBody(res, maxBytes, what);
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
