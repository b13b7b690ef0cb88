import type http from 'node:http';

/** Null past the limit. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if ((size += chunk.length) > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
