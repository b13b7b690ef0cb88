// A fake `signal-cli daemon --http` on 127.0.0.1, for what crabline's Signal
// server cannot express: receive events with mentions, quotes, attachments and
// sync messages (any envelope the test writes, in signal-cli's JSON shape), and
// the getAttachment and listAccounts calls. It speaks the same surface:
// POST /api/v1/rpc (JSON-RPC 2.0) and GET /api/v1/events (SSE, `event:receive`,
// each event with an id; like signal-cli it keeps the last 1000 and replays
// those after a Last-Event-ID, or all of them for an id it does not know).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSignalCli {
  url: string;
  account: string;
  /** Every RPC call, in order. */
  calls: { method: string; params: any }[];
  /** The `send` calls: what reached Signal. */
  sent(): { recipient?: string[] | string; groupId?: string; message: string; textStyle?: string[] }[];
  /** Writes one receive event (`{ envelope }`) to every open event stream. */
  push(envelope: Record<string, unknown>): void;
  /** Makes an attachment available to getAttachment under `id`. */
  addAttachment(id: string, data: Buffer): void;
  /** Ends every open event stream (as a daemon restart or a network drop would). */
  dropStreams(): void;
  /** The Last-Event-ID header of each event stream request, in order (null: none). */
  lastEventIds: (string | null)[];
  /** Resolves once an event stream is open. */
  streaming(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeSignalCli(account = '+15550000000'): Promise<FakeSignalCli> {
  const calls: { method: string; params: any }[] = [];
  const attachments = new Map<string, Buffer>();
  const streams = new Set<http.ServerResponse>();
  const streamWaiters: (() => void)[] = [];
  let timestamp = Date.now();
  const kept: { id: number; data: string }[] = [];
  let nextId = 1;
  const lastEventIds: (string | null)[] = [];
  const groups = [{ id: 'signal-group-1', name: 'Signal club', isMember: true, members: [account] }];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/api/v1/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.flushHeaders();
      const last = req.headers['last-event-id'];
      lastEventIds.push(typeof last === 'string' ? last : null);
      if (typeof last === 'string') {
        const known = kept.some((e) => String(e.id) === last);
        for (const e of kept) if (!known || e.id > Number(last)) res.write(e.data);
      }
      streams.add(res);
      res.on('close', () => streams.delete(res));
      for (const w of streamWaiters.splice(0)) w();
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/api/v1/rpc') {
      res.writeHead(404).end('not found');
      return;
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const rpc = JSON.parse(body) as { id: number; method: string; params?: any };
      calls.push({ method: rpc.method, params: rpc.params });
      const answer = (result: unknown) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: rpc.id, result }));
      const fail = (code: number, message: string) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: rpc.id, error: { code, message } }));
      switch (rpc.method) {
        case 'version':
          return answer({ version: '0.13.4' });
        case 'listGroups':
          return answer(groups.filter((g) => !rpc.params?.groupId || g.id === rpc.params.groupId));
        case 'listAccounts':
          return answer([{ number: account }]);
        case 'send':
          return answer({ timestamp: ++timestamp, results: [{ type: 'SUCCESS' }] });
        case 'sendTyping':
          return answer({});
        case 'getAttachment': {
          const data = attachments.get(rpc.params?.id);
          return data ? answer({ data: data.toString('base64') }) : fail(-1, `Attachment not found: ${rpc.params?.id}`);
        }
        default:
          return fail(-32601, `Method not found: ${rpc.method}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    account,
    calls,
    sent: () => calls.filter((c) => c.method === 'send').map((c) => c.params),
    push(envelope) {
      const id = nextId++;
      const data = `id:${id}\nevent:receive\ndata:${JSON.stringify({ envelope, account })}\n\n`;
      kept.push({ id, data });
      if (kept.length > 1000) kept.shift();
      for (const s of streams) s.write(data);
    },
    addAttachment: (id, data) => attachments.set(id, data),
    dropStreams() {
      for (const s of streams) s.destroy();
      streams.clear();
    },
    lastEventIds,
    streaming: () => (streams.size ? Promise.resolve() : new Promise<void>((resolve) => streamWaiters.push(resolve))),
    async close() {
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
