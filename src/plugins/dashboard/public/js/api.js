// Talking to the local API. The token lives in localStorage and travels in the
// Authorization header on every call, including the live event stream (read
// with fetch rather than EventSource, which cannot send headers).

const KEY = 'nanoclaw.token';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const token = {
  get: () => localStorage.getItem(KEY) || '',
  set: (t) => localStorage.setItem(KEY, t.trim()),
  clear: () => localStorage.removeItem(KEY),
};

/** Fired when the server refuses the token, so the app can show the login. */
export const authEvents = new EventTarget();

export async function api(path, { method = 'GET', json, signal, raw = false } = {}) {
  const headers = { authorization: `Bearer ${token.get()}` };
  if (json !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      signal,
      cache: 'no-store',
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NanoClaw is not answering. Is it still running? (nanoclaw status)');
  }
  if (res.status === 401) {
    authEvents.dispatchEvent(new Event('unauthorized'));
    throw new ApiError(401, 'The token was refused.');
  }
  if (raw) {
    if (!res.ok) throw new ApiError(res.status, await errorText(res));
    return res;
  }
  if (!res.ok) throw new ApiError(res.status, await errorText(res));
  return res.status === 204 ? null : res.json();
}

async function errorText(res) {
  try {
    const body = await res.json();
    if (body && body.error) return body.error;
  } catch {
    /* not JSON */
  }
  return res.status === 404 ? 'Not available in this version of NanoClaw.' : `Request failed (${res.status}).`;
}

/**
 * Keeps one server-sent event stream open (read with fetch, so it carries the token) and hands each event
 * `{ event, data }` to `onEvent`; reconnects with backoff. `onState(live)` reports the connection.
 */
export function openStream(path, { onEvent, onState = () => {} }) {
  const ctrl = new AbortController();
  let delay = 500;
  (async () => {
    while (!ctrl.signal.aborted) {
      try {
        const res = await api(path, { raw: true, signal: ctrl.signal });
        onState(true);
        delay = 500;
        await readSse(res.body, (ev) => {
          try {
            onEvent(ev);
          } catch {
            /* a listener failed; keep streaming */
          }
        });
      } catch (err) {
        if (ctrl.signal.aborted || err.status === 401) break;
      }
      onState(false);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
    onState(false);
  })();
  return () => ctrl.abort();
}

/** The host's /api/events: each new message to `onMessage`, each chat's typing on or off to `onTyping`. */
export function openEventStream({ onMessage, onTyping, onState }) {
  return openStream('/api/events', {
    onState,
    onEvent: (ev) => {
      if (ev.event === 'message') onMessage(JSON.parse(ev.data));
      else if (ev.event === 'typing') onTyping(JSON.parse(ev.data));
    },
  });
}

async function readSse(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    let i;
    while ((i = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      onEvent({ event, data: data.join('\n') });
    }
  }
}
