// What crabline's Slack server lacks: files. Slack serves a message's files at
// `url_private_download`, to the bot token only, and announces them in a
// `file_share` message event. This front sits on one origin before crabline:
// it serves the files it was given (bearer token checked) and passes every
// other request through unchanged, so the channel's SLACK_API_URL points here
// and crabline still records every Web API call. `shareFile` delivers the
// file_share event signed as Slack signs Events API callbacks.
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

export interface SlackFront {
  apiUrl: string;
  /** Adds a file; answers the file object Slack puts in a message event. */
  addFile(data: Buffer, meta: { name: string; mimetype: string; filetype: string }): Record<string, unknown>;
  /** Requests for files, with whether the bot token came along. */
  downloads: { id: string; authorized: boolean }[];
  close(): Promise<void>;
}

export async function startSlackFront(upstreamApiRoot: string, botToken: string): Promise<SlackFront> {
  const files = new Map<string, { data: Buffer; mimetype: string }>();
  const downloads: SlackFront['downloads'] = [];
  const upstream = new URL(upstreamApiRoot);
  const server = http.createServer((req, res) => {
    const file = /^\/files-pri\/(F[A-Z0-9]+)\//.exec(req.url ?? '');
    if (file) {
      const authorized = req.headers.authorization === `Bearer ${botToken}`;
      downloads.push({ id: file[1]!, authorized });
      const f = files.get(file[1]!);
      // Slack answers an unauthorized file request with its sign-in page.
      if (!authorized || !f)
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in</html>');
      return void res.writeHead(200, { 'content-type': f.mimetype, 'content-length': f.data.length }).end(f.data);
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    apiUrl: `${origin}/api/`,
    downloads,
    addFile(data, meta) {
      const id = `F${crypto.randomBytes(5).toString('hex').toUpperCase()}`;
      files.set(id, { data, mimetype: meta.mimetype });
      const url = `${origin}/files-pri/${id}/download/${encodeURIComponent(meta.name)}`;
      return { id, ...meta, size: data.length, mode: 'hosted', url_private: url, url_private_download: url };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** POSTs an Events API callback the way Slack does: JSON, signed with the app's signing secret. */
export async function postSlackEvent(
  eventsUrl: string,
  signingSecret: string,
  event: Record<string, unknown>,
): Promise<number> {
  const body = JSON.stringify({
    token: 'unused',
    team_id: 'TCRABLINE',
    api_app_id: 'ACRABLINE',
    type: 'event_callback',
    event_id: `Ev${crypto.randomBytes(6).toString('hex')}`,
    event_time: Math.floor(Date.now() / 1000),
    event,
  });
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = `v0=${crypto.createHmac('sha256', signingSecret).update(`v0:${ts}:${body}`).digest('hex')}`;
  const res = await fetch(eventsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
    body,
  });
  return res.status;
}

/** A port free right now on 127.0.0.1 (for a listener whose address must be known before it starts). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}
