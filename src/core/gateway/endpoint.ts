// Where a sandbox reaches its gateway: a unix socket only it has, or, for a sandbox that cannot share a socket (a
// VM), a TCP port where each connection must first present that sandbox's secret.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import type { Logger } from '../logger.js';
import type { Endpoint, Identity } from './types.js';

/** The first line of every connection to a TCP endpoint: `NANOCLAW <secret>\n`. */
export const TCP_PREAMBLE = 'NANOCLAW ';

const unlink = (p: string) => {
  try {
    fs.unlinkSync(p);
  } catch {
    /* not there */
  }
};
const listen = (server: net.Server, at: (ready: () => void) => void) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    at(resolve);
  });
/** Ends every connection (`sockets`, and the server's), then stops listening. */
function closer(server: http.Server, listener: net.Server, after: () => unknown, sockets = new Set<net.Socket>()) {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      listener.close(() => {
        after();
        resolve();
      });
    });
}

export async function listenOnSocket(server: http.Server, socketPath: string): Promise<Endpoint> {
  unlink(socketPath);
  await listen(server, (ready) => server.listen(socketPath, ready));
  // The sandbox user is not the host user; the socket is its only door.
  fs.chmodSync(socketPath, 0o666);
  return { socketPath, close: closer(server, server, () => unlink(socketPath)) };
}

/** Serves on a TCP port of `host` (loopback, unless the runtime needs another address). */
export async function listenOnTcp(
  server: http.Server,
  host: string,
  ctx: { identity: Identity; logger: Logger; own: Set<number> },
): Promise<Endpoint> {
  const secret = crypto.randomBytes(32).toString('hex');
  const expected = Buffer.from(TCP_PREAMBLE + secret);
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), 5_000);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (buf.length > 200) socket.destroy();
        return;
      }
      socket.off('data', onData);
      clearTimeout(timer);
      const line = buf.subarray(0, nl);
      if (line.length !== expected.length || !crypto.timingSafeEqual(line, expected)) {
        const from = socket.remoteAddress;
        ctx.logger.warn(
          { group: ctx.identity.groupFolder, from },
          'gateway connection without the sandbox secret refused',
        );
        return void socket.end(
          'HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nThis endpoint needs the sandbox secret.\n',
        );
      }
      // The rest is HTTP, for the server.
      socket.pause();
      if (nl + 1 < buf.length) socket.unshift(buf.subarray(nl + 1));
      server.emit('connection', socket);
      socket.resume();
    };
    socket.on('data', onData);
  });
  await listen(listener, (ready) => listener.listen(0, host, ready));
  const { port } = listener.address() as net.AddressInfo;
  ctx.own.add(port);
  return {
    socketPath: '',
    address: `tcp://${host}:${port}`,
    secret,
    close: closer(server, listener, () => ctx.own.delete(port), sockets),
  };
}
