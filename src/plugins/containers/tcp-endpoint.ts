// A VM cannot share a unix socket: its sandbox reaches the gateway on a TCP port of the host, and every connection
// must first present that sandbox's own secret, which reaches it only through its env. The address proves nothing.
import crypto from 'node:crypto';
import net from 'node:net';
import type { SandboxRuntime } from '../../core/types.js';

/** The first line of every connection: `NANOCLAW <secret>\n` (runner/gateway-client.ts sends it). */
export const TCP_PREAMBLE = 'NANOCLAW ';

const REFUSED =
  'HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nThis endpoint needs the sandbox secret.\n';

/** Serves on a port of `host` (loopback, unless the runtime needs another address). */
export const tcpEndpoint =
  (host: string): NonNullable<SandboxRuntime['openEndpoint']> =>
  async (server, { group, logger, ownPorts }) => {
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
          logger.warn({ group, from: socket.remoteAddress }, 'gateway connection without the sandbox secret refused');
          return void socket.end(REFUSED);
        }
        // The rest is HTTP, for the server.
        socket.pause();
        if (nl + 1 < buf.length) socket.unshift(buf.subarray(nl + 1));
        server.emit('connection', socket);
        socket.resume();
      };
      socket.on('data', onData);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, host, resolve);
    });
    const { port } = listener.address() as net.AddressInfo;
    ownPorts.add(port);
    return {
      socketPath: '',
      env: { NANOCLAW_GATEWAY_SOCKET: `tcp://${host}:${port}`, NANOCLAW_GATEWAY_SECRET: secret },
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.closeAllConnections();
          listener.close(() => {
            ownPorts.delete(port);
            resolve();
          });
        }),
    };
  };
