// The runner's way to the gateway: JSON calls, and a TCP forwarder for the Claude CLI, which only speaks TCP.
import http from 'node:http';
import net from 'node:net';
import { text } from 'node:stream/consumers';

export function connectGateway(address: string, secret = process.env.NANOCLAW_GATEWAY_SECRET ?? '') {
  const tcp = /^tcp:\/\/(.+):(\d+)$/.exec(address);
  if (!tcp) return net.connect(address);
  const socket = net.connect(Number(tcp[2]), tcp[1].replace(/^\[|\]$/g, ''));
  socket.write(`NANOCLAW ${secret}\n`);
  return socket;
}

/** A GET, or a POST of `body`. */
export const callGateway = <T>(socketPath: string, path: string, body?: unknown) =>
  new Promise<T>((resolve, reject) => {
    const fail = (why: string) => reject(new Error(`gateway ${path} ${why}`));
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers = payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {};
    const method = payload ? 'POST' : 'GET';
    http
      .request({ createConnection: () => connectGateway(socketPath), method, path, headers }, (res) =>
        text(res)
          .then((t) => {
            if ((res.statusCode ?? 500) >= 400) fail(`answered ${res.statusCode}: ${t.slice(0, 300)}`);
            else resolve(t ? JSON.parse(t) : {});
          }, reject)
          .catch(() => fail('sent invalid JSON')),
      )
      .on('error', reject)
      .end(payload);
  });

export const startForwarder = (socketPath: string, port = 0) =>
  new Promise<{ port: number; close(): void }>((resolve, reject) => {
    const server = net.createServer((client) => {
      const upstream = connectGateway(socketPath);
      const end = () => [client, upstream].forEach((s) => s.destroy());
      client.on('error', end).pipe(upstream).on('error', end).pipe(client);
    });
    server
      .once('error', reject)
      .listen(port, '127.0.0.1', () =>
        resolve({ port: (server.address() as net.AddressInfo).port, close: () => server.close() }),
      );
  });
