// Reading and answering the small JSON calls on a gateway endpoint, within their limits.
import type http from 'node:http';

export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if ((size += chunk.length) > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

/** An error in the model API's own shape, which the SDK inside reads. */
export const apiError = (res: http.ServerResponse, status: number, type: string, message: string) =>
  json(res, status, { type: 'error', error: { type, message } });
