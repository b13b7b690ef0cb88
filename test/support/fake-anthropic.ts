// A fake Anthropic Messages API on 127.0.0.1. It speaks the wire format the
// Claude Agent SDK's CLI uses (JSON and streaming SSE), lets a test script what
// the "model" answers, and records every request so a test can assert what the
// model was shown and which credential reached it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The path with its query string, as it arrived. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** Every text the model was shown: system prompt, user turns, tool results. */
  text: string;
}

export type ScriptedReply =
  | { text: string; usage?: { input_tokens?: number; output_tokens?: number } }
  | { toolUse: { name: string; input: unknown; id?: string }; text?: string }
  /** Several tool calls in one assistant message (parallel tool use). */
  | { toolUses: { name: string; input: unknown; id?: string }[]; text?: string }
  | { status: number; body?: unknown }
  | { hang: true }
  | { malformed: true };

/** Decides the reply to one request. Return undefined for the default. */
export type Script = (
  req: RecordedRequest,
  fake: FakeAnthropic,
) => ScriptedReply | undefined | Promise<ScriptedReply | undefined>;

export interface FakeAnthropic {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Requests that look like agent turns (they carry tools), not side calls. */
  turnRequests(): RecordedRequest[];
  setScript(script: Script): void;
  /** Refuse every request on every route with this status, as the real API does a bad key (null: accept again). */
  refuse(status: 401 | 403 | null): void;
  /** Refuse (401) every request not made with this key or token, as the real API does any other (null: any key). */
  requireKey(key: string | null): void;
  /** Refuse (404 not_found_error "model: <id>") a request for any other model, as the real API does (null: any). */
  serveModels(ids: string[] | null): void;
  /** The model each model request asked for, in order. */
  models(): string[];
  /** Stop listening, so connections are refused as by a server that is down (false: listen again, same port). */
  setDown(down: boolean): Promise<void>;
  close(): Promise<void>;
}

let toolCounter = 0;

function flattenText(body: any): string {
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.text === 'string') parts.push(o.text);
      if ('content' in o) walk(o.content);
    }
  };
  if (body && typeof body === 'object') {
    walk(body.system);
    walk(body.messages);
  }
  return parts.join('\n');
}

/** The text of the last user turn, tool results included. */
export function lastUserText(req: RecordedRequest): string {
  const msgs = Array.isArray(req.body?.messages) ? req.body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    if (msgs[i].role === 'user') return flattenText({ messages: [msgs[i]] });
  }
  return '';
}

/** The content blocks of the last user turn (text, image, document…), as the model received them. */
export function lastUserBlocks(req: RecordedRequest): any[] {
  const msgs = Array.isArray(req.body?.messages) ? req.body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    if (msgs[i].role !== 'user') continue;
    return Array.isArray(msgs[i].content) ? msgs[i].content : [{ type: 'text', text: String(msgs[i].content) }];
  }
  return [];
}

/** True when the last user turn is a tool result (the model is mid tool loop). */
export function isToolResultTurn(req: RecordedRequest): boolean {
  const msgs = Array.isArray(req.body?.messages) ? req.body.messages : [];
  // A hook's context (PostToolUse additionalContext) follows the tool result as a `system` message.
  const last = msgs.filter((m: any) => m?.role !== 'system').pop();
  return !!last && Array.isArray(last.content) && last.content.some((c: any) => c?.type === 'tool_result');
}

type ModelReply =
  | Extract<ScriptedReply, { text: string }>
  | Extract<ScriptedReply, { toolUse: unknown }>
  | Extract<ScriptedReply, { toolUses: unknown }>;

function messageFor(reply: ModelReply, model: string) {
  const content: any[] = [];
  const uses = 'toolUses' in reply ? reply.toolUses : 'toolUse' in reply ? [reply.toolUse] : null;
  if (uses) {
    if (reply.text) content.push({ type: 'text', text: reply.text });
    for (const u of uses)
      content.push({ type: 'tool_use', id: u.id ?? `toolu_fake_${++toolCounter}`, name: u.name, input: u.input });
  } else {
    content.push({ type: 'text', text: (reply as { text: string }).text });
  }
  const usage = {
    input_tokens: 10,
    output_tokens: 5,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    ...('usage' in reply ? reply.usage : {}),
  };
  return {
    id: `msg_fake_${Date.now()}_${toolCounter++}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: uses ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage,
  };
}

function writeStream(res: http.ServerResponse, msg: ReturnType<typeof messageFor>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('message_start', {
    type: 'message_start',
    message: { ...msg, content: [], stop_reason: null, usage: { ...msg.usage, output_tokens: 1 } },
  });
  msg.content.forEach((block: any, index: number) => {
    if (block.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'text_delta', text: block.text },
      });
    } else {
      send('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      });
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  });
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: msg.stop_reason, stop_sequence: null },
    usage: { output_tokens: msg.usage.output_tokens },
  });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

export async function startFakeAnthropic(script?: Script): Promise<FakeAnthropic> {
  let current: Script | undefined = script;
  let refusing: 401 | 403 | null = null;
  let required: string | null = null;
  let served: string[] | null = null;
  const requests: RecordedRequest[] = [];
  const open = new Set<http.ServerResponse>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any = raw;
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      /* recorded as raw text */
    }
    const path = (req.url ?? '/').split('?')[0];
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      url: req.url ?? '/',
      headers: req.headers,
      body,
      text: flattenText(body),
    };
    requests.push(rec);
    const json = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(data));
    };

    const sent = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '');
    if (refusing === 401 || (required !== null && sent !== required))
      return json(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    if (refusing === 403)
      return json(403, {
        type: 'error',
        error: {
          type: 'permission_error',
          message: 'Your API key does not have permission to use the specified resource.',
        },
      });
    if (path.endsWith('/count_tokens')) return json(200, { input_tokens: Math.ceil(rec.text.length / 4) });
    if (!path.endsWith('/v1/messages'))
      return json(404, { type: 'error', error: { type: 'not_found_error', message: `fake has no ${path}` } });

    if (served && !served.includes(body?.model))
      return json(404, { type: 'error', error: { type: 'not_found_error', message: `model: ${body?.model}` } });
    let reply: ScriptedReply | undefined;
    try {
      reply = current ? await current(rec, api) : undefined;
    } catch (err) {
      reply = { status: 500, body: { type: 'error', error: { type: 'api_error', message: String(err) } } };
    }
    reply ??= { text: 'OK' };
    if ('hang' in reply) {
      open.add(res);
      res.on('close', () => open.delete(res));
      return;
    }
    if ('status' in reply)
      return json(
        reply.status,
        reply.body ?? {
          type: 'error',
          error: { type: reply.status === 529 ? 'overloaded_error' : 'api_error', message: 'scripted failure' },
        },
      );
    if ('malformed' in reply) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('event: message_start\ndata: {"type":"message_start","message":{not json\n\n');
      return;
    }
    const msg = messageFor(reply, typeof body?.model === 'string' ? body.model : 'claude-fake');
    if (body?.stream) writeStream(res, msg);
    else json(200, msg);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const api: FakeAnthropic = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    turnRequests: () =>
      requests.filter(
        (r) => r.path.endsWith('/v1/messages') && Array.isArray(r.body?.tools) && r.body.tools.length > 0,
      ),
    setScript: (s) => {
      current = s;
    },
    refuse: (status) => {
      refusing = status;
    },
    requireKey: (key) => {
      required = key;
    },
    serveModels: (ids) => {
      served = ids;
    },
    models: () => requests.filter((r) => r.path.endsWith('/v1/messages')).map((r) => String(r.body?.model)),
    setDown: (down) =>
      new Promise((resolve, reject) => {
        if (down === !server.listening) return resolve();
        if (!down) return server.listen(port, '127.0.0.1', resolve).once('error', reject);
        // Kept-alive connections would otherwise go on being answered.
        for (const r of open) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    close: () =>
      new Promise((resolve) => {
        for (const r of open) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return api;
}
