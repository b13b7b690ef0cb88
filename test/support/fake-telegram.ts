// A fake Telegram Bot API on 127.0.0.1, for grammY's `client.apiRoot`. It
// keeps an update queue with Telegram's offset semantics (an update is
// forgotten only when a later getUpdates asks for an offset past it), long-polls
// with a bounded wait, parses MarkdownV2 as strictly as Telegram does, serves
// files, can be scripted to fail a call, and records every call. Inline
// keyboards: sendMessage keeps a message's reply_markup, a test taps a button
// (a callback_query update), and answerCallbackQuery / editMessageReplyMarkup /
// editMessageText work as Telegram's do (an answer once per query; an edit
// changes what the chat shows). getUpdates honours allowed_updates.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BotApiError {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export interface RecordedCall {
  method: string;
  params: Record<string, any>;
  /** ms since the epoch, when the request arrived. */
  at: number;
  ok: boolean;
}

export interface SentMessage {
  chatId: number;
  messageId: number;
  /** What the user sees: the text after MarkdownV2 parsing. */
  text: string;
  /** The text as the bot sent it. */
  raw: string;
  parseMode?: string;
  /** The keyboard under the message now (after any edits); undefined when it has none. */
  replyMarkup?: { inline_keyboard: { text: string; callback_data?: string }[][] };
}

export interface FakeUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
}

export interface FakeChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
  first_name?: string;
  last_name?: string;
  username?: string;
}

/** The fields of an incoming message a test sets; ids and date are filled in. */
export type IncomingMessage = { chat: FakeChat; from?: FakeUser } & Record<string, unknown>;

export interface FakeTelegram {
  apiRoot: string;
  token: string;
  bot: FakeUser & { username: string };
  calls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  /** Messages the bot sent successfully, in order. */
  sent: SentMessage[];
  /** Paths of file downloads requested, in order. */
  downloads: string[];
  /** Files the bot sent successfully (sendDocument, sendPhoto), in order, with the bytes that arrived. */
  sentFiles: { method: string; chatId: number; fileName: string; bytes: Buffer; caption?: string }[];
  /** Queues messages as one batch of updates; answers their message ids. */
  push(...messages: IncomingMessage[]): number[];
  /** `from` taps the button carrying `data` under a message the bot sent (a callback_query update); answers the query id. */
  tap(from: FakeUser, message: SentMessage, data: string, chat?: FakeChat): string;
  /** answerCallbackQuery calls that Telegram accepted, in order. */
  callbackAnswers: { queryId: string; text?: string }[];
  /** Serves a file; answers its file_id. `declaredSize` is what getFile claims. */
  addFile(bytes: Buffer, opts?: { filePath?: string; declaredSize?: number }): string;
  /** The next `times` calls to `method` fail with this error. */
  failNext(method: string, error: BotApiError, times?: number): void;
  /** Holds file downloads until the returned function is called. */
  holdDownloads(): () => void;
  /** From now on getUpdates answers at once, ignoring its timeout, as some third-party Bot API servers do. */
  answerUpdatesAtOnce(): void;
  /** Updates not yet confirmed by an offset. */
  pendingUpdateIds(): number[];
  close(): Promise<void>;
}

export const ALICE: FakeUser = {
  id: 1001,
  is_bot: false,
  first_name: 'Alice',
  last_name: 'Liddell',
  username: 'alice',
};
export const BOB: FakeUser = { id: 1002, is_bot: false, first_name: 'Bob' };

export function privateChat(user: FakeUser): FakeChat {
  return {
    id: user.id,
    type: 'private',
    first_name: user.first_name,
    last_name: user.last_name,
    username: user.username,
  };
}

export function groupChat(title = 'Family', id = -1001234567890): FakeChat {
  return { id, type: 'supergroup', title };
}

/** A `mention` entity for the first occurrence of `handle` in `text`. */
export function mentionEntity(text: string, handle: string): { type: 'mention'; offset: number; length: number } {
  const offset = text.indexOf(handle);
  if (offset < 0) throw new Error(`${handle} not in text`);
  return { type: 'mention', offset, length: handle.length };
}

const MAX_WAIT_MS = 5_000;
const RESERVED = '_*[]()~`>#+-=|{}.!';

/**
 * Parses MarkdownV2 the way the Bot API does for our purposes: escapes,
 * ```pre```, `code`, bold/italic/underline/strike/spoiler markers and links.
 * A reserved character that is not escaped, or an entity left open, is an error.
 */
export function parseMarkdownV2(s: string): { text: string } | { error: string } {
  let out = '';
  const open: string[] = [];
  let i = 0;
  const closing = (from: number, marker: string): number => {
    for (let j = from; j < s.length; j++) {
      if (s[j] === '\\') j++;
      else if (s.startsWith(marker, j)) return j;
    }
    return -1;
  };
  const unescape = (t: string) => t.replace(/\\([\s\S])/g, '$1');
  const toggle = (m: string): string | null => {
    if (!open.includes(m)) {
      open.push(m);
      return null;
    }
    if (open[open.length - 1] !== m) return `Can't find end of ${m} entity`;
    open.pop();
    return null;
  };
  while (i < s.length) {
    const c = s[i]!;
    let err: string | null = null;
    if (c === '\\') {
      if (i + 1 >= s.length) return { error: "Can't parse entities: unexpected end of text after '\\'" };
      out += s[i + 1];
      i += 2;
      continue;
    }
    if (s.startsWith('```', i)) {
      const end = closing(i + 3, '```');
      if (end < 0) return { error: "Can't find end of Pre entity" };
      let body = s.slice(i + 3, end);
      const nl = body.indexOf('\n');
      if (nl >= 0 && /^[\w+#.-]*$/.test(body.slice(0, nl))) body = body.slice(nl + 1);
      out += unescape(body);
      i = end + 3;
      continue;
    }
    if (c === '`') {
      const end = closing(i + 1, '`');
      if (end < 0) return { error: "Can't find end of Code entity" };
      out += unescape(s.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (c === '[') {
      open.push(']');
      i++;
      continue;
    }
    if (c === ']' && open[open.length - 1] === ']') {
      open.pop();
      if (s[i + 1] !== '(') return { error: "Can't parse entities: expected '(' after ']'" };
      const end = closing(i + 2, ')');
      if (end < 0) return { error: "Can't find end of a url" };
      i = end + 1;
      continue;
    }
    if (s.startsWith('__', i) || s.startsWith('||', i)) {
      err = toggle(s.slice(i, i + 2));
      i += 2;
    } else if (c === '*' || c === '_' || c === '~') {
      err = toggle(c);
      i++;
    } else if (RESERVED.includes(c))
      return { error: `Character '${c}' is reserved and must be escaped with the preceding '\\'` };
    else {
      out += c;
      i++;
    }
    if (err) return { error: err };
  }
  if (open.length) return { error: `Can't find end of ${open[open.length - 1]} entity` };
  return { text: out };
}

interface Waiter {
  offset: number;
  limit: number;
  respond(updates: unknown[]): void;
  conflict(): void;
}

export async function startFakeTelegram(opts: { token?: string } = {}): Promise<FakeTelegram> {
  const token = opts.token ?? '123456:TEST-token';
  const bot = { id: 999_000, is_bot: true, first_name: 'Andy', username: 'Andy_Test_Bot' };
  const calls: RecordedCall[] = [];
  const sent: SentMessage[] = [];
  const downloads: string[] = [];
  const sentFiles: FakeTelegram['sentFiles'] = [];
  let queue: ({ update_id: number } & Record<string, unknown>)[] = [];
  // Telegram remembers the last allowed_updates a bot asked for; until then, every kind here arrives.
  let allowedUpdates: string[] | null = null;
  const queries = new Map<string, { answered: boolean }>();
  const callbackAnswers: { queryId: string; text?: string }[] = [];
  let nextQueryId = 1;
  let nextUpdateId = 500;
  const nextMessageId = new Map<number, number>();
  const files = new Map<string, { bytes: Buffer; filePath: string; declaredSize?: number }>();
  const failures = new Map<string, BotApiError[]>();
  let waiter: Waiter | null = null;
  let hold: Promise<void> | null = null;
  let longPoll = true;

  const messageIdFor = (chatId: number) => {
    const id = (nextMessageId.get(chatId) ?? 0) + 1;
    nextMessageId.set(chatId, id);
    return id;
  };

  const kindOf = (u: Record<string, unknown>) => Object.keys(u).find((k) => k !== 'update_id')!;
  const available = (offset: number, limit: number) =>
    queue
      .filter((u) => u.update_id >= offset && (!allowedUpdates || allowedUpdates.includes(kindOf(u))))
      .slice(0, limit);

  function wake(): void {
    if (!waiter) return;
    const ready = available(waiter.offset, waiter.limit);
    if (ready.length) {
      const w = waiter;
      waiter = null;
      w.respond(ready);
    }
  }

  function getUpdates(params: Record<string, any>, res: http.ServerResponse, reply: (r: unknown) => void): void {
    const offset = Number(params.offset ?? 0);
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100)));
    const timeoutMs = longPoll ? Math.min(MAX_WAIT_MS, Math.max(0, Number(params.timeout ?? 0)) * 1000) : 0;
    if (params.allowed_updates !== undefined) {
      const given =
        typeof params.allowed_updates === 'string' ? JSON.parse(params.allowed_updates) : params.allowed_updates;
      allowedUpdates = Array.isArray(given) && given.length ? given.map(String) : null;
    }
    // Asking for an offset confirms every update before it.
    if (offset > 0) queue = queue.filter((u) => u.update_id >= offset);
    // Telegram allows one getUpdates at a time and ends the older one.
    waiter?.conflict();
    waiter = null;
    const ready = available(offset, limit);
    if (ready.length || timeoutMs === 0) return reply({ ok: true, result: ready });
    const timer = setTimeout(() => finish([]), timeoutMs);
    const finish = (updates: unknown[]) => {
      clearTimeout(timer);
      if (waiter === w) waiter = null;
      reply({ ok: true, result: updates });
    };
    const w: Waiter = {
      offset,
      limit,
      respond: finish,
      conflict: () => {
        clearTimeout(timer);
        reply({
          ok: false,
          error_code: 409,
          description:
            'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
        });
      },
    };
    waiter = w;
    res.on('close', () => {
      clearTimeout(timer);
      if (waiter === w) waiter = null;
    });
  }

  function sendMessage(params: Record<string, any>): unknown {
    const chatId = Number(params.chat_id);
    const raw = String(params.text ?? '');
    let text = raw;
    if (params.parse_mode === 'MarkdownV2') {
      const parsed = parseMarkdownV2(raw);
      if ('error' in parsed)
        return { ok: false, error_code: 400, description: `Bad Request: can't parse entities: ${parsed.error}` };
      text = parsed.text;
    } else if (params.parse_mode) {
      return { ok: false, error_code: 400, description: 'Bad Request: unsupported parse_mode' };
    }
    if (!text.trim()) return { ok: false, error_code: 400, description: 'Bad Request: message text is empty' };
    if (text.length > 4096) return { ok: false, error_code: 400, description: 'Bad Request: message is too long' };
    const replyMarkup = params.reply_markup?.inline_keyboard ? params.reply_markup : undefined;
    for (const b of replyMarkup?.inline_keyboard.flat() ?? []) {
      if (Buffer.byteLength(String(b.callback_data ?? ''), 'utf8') > 64)
        return { ok: false, error_code: 400, description: 'Bad Request: BUTTON_DATA_INVALID' };
    }
    const messageId = messageIdFor(chatId);
    const m: SentMessage = { chatId, messageId, text, raw, parseMode: params.parse_mode, replyMarkup };
    sent.push(m);
    return { ok: true, result: asMessage(m) };
  }

  function sendFile(method: string, params: Record<string, any>): unknown {
    const ref = params[method === 'sendPhoto' ? 'photo' : 'document'];
    const file = typeof ref === 'string' && ref.startsWith('attach://') ? params[ref.slice('attach://'.length)] : ref;
    if (!file?.bytes) return { ok: false, error_code: 400, description: 'Bad Request: there is no file' };
    const chatId = Number(params.chat_id);
    sentFiles.push({ method, chatId, fileName: file.fileName, bytes: file.bytes, caption: params.caption });
    return { ok: true, result: asMessage({ chatId, messageId: messageIdFor(chatId), text: '', raw: '' }) };
  }

  function asMessage(m: SentMessage, chat?: FakeChat): Record<string, unknown> {
    return {
      message_id: m.messageId,
      date: Math.floor(Date.now() / 1000),
      chat: chat ?? { id: m.chatId, type: m.chatId < 0 ? 'supergroup' : 'private' },
      from: bot,
      text: m.text,
      ...(m.replyMarkup ? { reply_markup: m.replyMarkup } : {}),
    };
  }

  function answerCallbackQuery(params: Record<string, any>): unknown {
    const q = queries.get(String(params.callback_query_id));
    if (!q || q.answered)
      return {
        ok: false,
        error_code: 400,
        description: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
      };
    q.answered = true;
    callbackAnswers.push({ queryId: String(params.callback_query_id), text: params.text });
    return { ok: true, result: true };
  }

  /** editMessageReplyMarkup and editMessageText: what the chat shows changes; an edit that changes nothing is refused. */
  function editMessage(method: string, params: Record<string, any>): unknown {
    const m = sent.find((x) => x.chatId === Number(params.chat_id) && x.messageId === Number(params.message_id));
    if (!m) return { ok: false, error_code: 400, description: 'Bad Request: message to edit not found' };
    const replyMarkup = params.reply_markup?.inline_keyboard?.length ? params.reply_markup : undefined;
    const text = method === 'editMessageText' ? String(params.text ?? '') : m.text;
    if (method === 'editMessageText' && !text.trim())
      return { ok: false, error_code: 400, description: 'Bad Request: message text is empty' };
    if (text === m.text && JSON.stringify(replyMarkup) === JSON.stringify(m.replyMarkup))
      return { ok: false, error_code: 400, description: 'Bad Request: message is not modified' };
    m.text = text;
    m.replyMarkup = replyMarkup;
    return { ok: true, result: asMessage(m) };
  }

  function callMethod(method: string, params: Record<string, any>): unknown {
    switch (method) {
      case 'getMe':
        return {
          ok: true,
          result: { ...bot, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false },
        };
      case 'deleteWebhook':
        return { ok: true, result: true };
      case 'sendMessage':
        return sendMessage(params);
      case 'sendChatAction':
        return { ok: true, result: true };
      case 'sendDocument':
      case 'sendPhoto':
        return sendFile(method, params);
      case 'answerCallbackQuery':
        return answerCallbackQuery(params);
      case 'editMessageReplyMarkup':
      case 'editMessageText':
        return editMessage(method, params);
      case 'getFile': {
        const f = files.get(String(params.file_id));
        if (!f) return { ok: false, error_code: 400, description: 'Bad Request: invalid file_id' };
        return {
          ok: true,
          result: {
            file_id: params.file_id,
            file_unique_id: `u-${params.file_id}`,
            file_size: f.declaredSize ?? f.bytes.length,
            file_path: f.filePath,
          },
        };
      }
      default:
        return { ok: false, error_code: 404, description: 'Not Found: method not found' };
    }
  }

  async function serveFile(filePath: string, res: http.ServerResponse): Promise<void> {
    downloads.push(filePath);
    if (hold) await hold;
    const f = [...files.values()].find((x) => x.filePath === filePath);
    if (!f) {
      res.writeHead(404).end('Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': f.bytes.length });
    res.end(f.bytes);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
      if (fileMatch) {
        if (fileMatch[1] !== token) return void res.writeHead(401).end('Unauthorized');
        return void serveFile(decodeURIComponent(fileMatch[2]!), res);
      }
      const reply = (body: any) => {
        if (res.writableEnded || res.destroyed) return;
        const status = body.ok ? 200 : body.error_code;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const m = /^\/bot([^/]+)\/(\w+)$/.exec(url.pathname);
      if (!m) return reply({ ok: false, error_code: 404, description: 'Not Found' });
      const [, reqToken, method] = m as unknown as [string, string, string];
      let params: Record<string, any> = Object.fromEntries(url.searchParams);
      const raw = Buffer.concat(chunks);
      const type = String(req.headers['content-type'] ?? '');
      // Files come as multipart form data, as Telegram takes them: fields as text (JSON where grammY sent JSON), files whole.
      if (type.startsWith('multipart/form-data')) Object.assign(params, multipart(raw, type));
      else if (raw.length) {
        try {
          params = { ...params, ...JSON.parse(raw.toString('utf8')) };
        } catch {
          return reply({ ok: false, error_code: 400, description: 'Bad Request: invalid JSON' });
        }
      }
      const call: RecordedCall = { method, params, at: Date.now(), ok: false };
      calls.push(call);
      if (reqToken !== token) return reply({ ok: false, error_code: 401, description: 'Unauthorized' });
      const scripted = failures.get(method)?.shift();
      if (scripted) return reply({ ok: false, ...scripted });
      if (method === 'getUpdates') {
        call.ok = true;
        return getUpdates(params, res, reply);
      }
      const result = callMethod(method, params) as { ok: boolean };
      call.ok = result.ok;
      reply(result);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    bot,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    sent,
    downloads,
    sentFiles,
    push(...messages) {
      const ids: number[] = [];
      for (const m of messages) {
        const messageId = messageIdFor(m.chat.id);
        ids.push(messageId);
        queue.push({
          update_id: nextUpdateId++,
          message: { message_id: messageId, date: Math.floor(Date.now() / 1000), ...m },
        });
      }
      wake();
      return ids;
    },
    tap(from, message, data, chat) {
      const id = String(nextQueryId++);
      queries.set(id, { answered: false });
      const callback_query = {
        id,
        from,
        chat_instance: `ci-${message.chatId}`,
        message: asMessage(message, chat),
        data,
      };
      queue.push({ update_id: nextUpdateId++, callback_query });
      wake();
      return id;
    },
    callbackAnswers,
    addFile(bytes, o = {}) {
      const fileId = `file-${files.size + 1}`;
      files.set(fileId, {
        bytes,
        filePath: o.filePath ?? `documents/file_${files.size + 1}`,
        declaredSize: o.declaredSize,
      });
      return fileId;
    },
    failNext(method, error, times = 1) {
      const list = failures.get(method) ?? [];
      for (let n = 0; n < times; n++) list.push(error);
      failures.set(method, list);
    },
    holdDownloads() {
      let release!: () => void;
      hold = new Promise<void>((r) => {
        release = r;
      });
      return () => {
        hold = null;
        release();
      };
    },
    answerUpdatesAtOnce() {
      longPoll = false;
    },
    pendingUpdateIds: () => queue.map((u) => u.update_id),
    async close() {
      waiter = null;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The fields of a multipart/form-data body, as Telegram reads them: text fields (JSON where it parses), and each
 * file part as its name and bytes. grammY writes headers without quotes, which stricter parsers refuse.
 */
function multipart(raw: Buffer, type: string): Record<string, unknown> {
  const boundary = /boundary=("?)([^";]+)\1/.exec(type)?.[2];
  if (!boundary) return {};
  const fields: Record<string, unknown> = {};
  const sep = Buffer.from(`--${boundary}`);
  for (let at = raw.indexOf(sep); at !== -1;) {
    const next = raw.indexOf(sep, at + sep.length);
    if (next === -1) break;
    const part = raw.subarray(at + sep.length + 2, next - 2); // past the CRLF after the boundary, before the next
    at = next;
    const split = part.indexOf('\r\n\r\n');
    if (split === -1) continue;
    const head = part.subarray(0, split).toString('utf8');
    const bytes = Buffer.from(part.subarray(split + 4));
    const name = /name="?([^";\r\n]+)"?/.exec(head)?.[1];
    const fileName = /filename="?([^";\r\n]+)"?/.exec(head)?.[1];
    if (!name) continue;
    if (fileName) fields[name] = { fileName, bytes };
    else {
      const text = bytes.toString('utf8');
      try {
        fields[name] = /^[[{]/.test(text) ? JSON.parse(text) : text;
      } catch {
        fields[name] = text;
      }
    }
  }
  return fields;
}
