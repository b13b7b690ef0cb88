// The runner's way to the gateway: JSON calls, and a TCP forwarder for the Claude CLI, which only speaks TCP.
import http from 'node:http';
import net from 'node:net';

export function connectGateway(address: string, secret = process.env.NANOCLAW_GATEWAY_SECRET ?? ''): net.Socket {
  const tcp = /^tcp:\/\/(.+):(\d+)$/.exec(address);
  if (!tcp) return net.connect(address);
  const socket = net.connect(Number(tcp[2]), tcp[1].replace(/^\[|\]$/g, ''));
  socket.write(`NANOCLAW ${secret}\n`);
  return socket;
}

export function callGateway<T>(
  socketPath: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 0,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        createConnection: () => connectGateway(socketPath),
        method,
        path,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 400)
            return reject(new Error(`gateway ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`));
          try {
            resolve(text ? JSON.parse(text) : {});
          } catch {
            reject(new Error(`gateway ${path} sent invalid JSON`));
          }
        });
        res.on('error', reject);
      },
    );
    if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error(`gateway ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export function startForwarder(socketPath: string, port = 0): Promise<{ port: number; close(): void }> {
  const server = net.createServer((client) => {
    const upstream = connectGateway(socketPath);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({ port: (server.address() as net.AddressInfo).port, close: () => server.close() }),
    );
  });
}
