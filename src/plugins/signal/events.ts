// The receive loop: signal-cli's Server-Sent Events stream (GET /api/v1/events)
// over Node's fetch, framed by eventsource-parser. When the stream ends or
// breaks it reconnects with backoff; events are handled one at a time, in order,
// and the next chunk is read only once they are handled. signal-cli numbers its
// events and keeps the last 1000: reconnecting with Last-Event-ID gets what came
// meanwhile (a replayed one is a duplicate the store ignores). An event may not
// run past maxEventBytes: past it the connection is dropped and opened again.
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { InputTooLarge } from '../../kit/bounded.js';
import { describeFetchError } from './rpc.js';

export interface EventStreamOptions {
  url: string;
  /** One `receive` event's data (JSON text). Awaited before the next is handled. */
  onEvent(data: string): Promise<void>;
  /** The stream opened (true) or broke (false, with why). */
  onState(connected: boolean, detail: string): void;
  signal: AbortSignal;
  fetchImpl?: typeof fetch;
  /** First wait after a failure; doubles each time, up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A stream silent this long is taken for dead (signal-cli sends a keepalive every 15 s). */
  idleMs?: number;
  /**
   * The id of the last event handled, sent as Last-Event-ID so signal-cli replays
   * what came while we were away; `save` is told each new one once it is handled.
   */
  lastEventId?: { load(): string | null; save(id: string): void };
  /** The most one event (or a line without its end) may take before the connection is dropped. */
  maxEventBytes?: number;
  /** Connections dropped in a row for an oversized event: told once, when it reaches REPEATS. */
  onRepeatedDrop?(count: number, problem: string): void;
}

export const MAX_EVENT_BYTES = 1024 * 1024;
/** Drops in a row that mean something is wrong with the daemon, not a one-off. */
const REPEATS = 3;

const IDLE = new Error('the event stream went quiet');

/** Runs until `signal` aborts. */
export async function runEventStream(o: EventStreamOptions): Promise<void> {
  const minBackoff = o.minBackoffMs ?? 500;
  const maxBackoff = o.maxBackoffMs ?? 30_000;
  let failures = 0;
  let drops = 0;
  while (!o.signal.aborted) {
    let problem: string;
    try {
      // A stream that carried something and then ended (or went quiet) is simply
      // opened again: only a failure to reconnect counts as being down.
      const carried = await readOnce(o);
      drops = 0;
      if (carried) {
        failures = 0;
        await sleep(minBackoff, undefined, { signal: o.signal }).catch(() => {});
        continue;
      }
      problem = 'the event stream ended';
    } catch (err) {
      if (o.signal.aborted) break;
      problem = err instanceof InputTooLarge ? err.message : describeFetchError(err);
      if (err instanceof InputTooLarge && ++drops === REPEATS) o.onRepeatedDrop?.(drops, problem);
    }
    if (o.signal.aborted) break;
    failures++;
    o.onState(false, `signal-cli event stream: ${problem}; reconnecting`);
    await sleep(Math.min(maxBackoff, minBackoff * 2 ** (failures - 1)), undefined, { signal: o.signal }).catch(
      () => {},
    );
  }
}

/** One connection, read to its end. Answers whether it carried anything (so backoff can start over). */
async function readOnce(o: EventStreamOptions): Promise<boolean> {
  const idleMs = o.idleMs ?? 60_000;
  const conn = new AbortController();
  const stop = () => conn.abort();
  o.signal.addEventListener('abort', stop, { once: true });
  let idle: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => conn.abort(IDLE), idleMs);
    idle.unref();
  };
  try {
    touch();
    const last = o.lastEventId?.load();
    const headers: Record<string, string> = { accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) };
    const res = await (o.fetchImpl ?? fetch)(o.url, { headers, signal: conn.signal });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} from ${o.url}`);
    o.onState(true, 'receiving');
    const pending: EventSourceMessage[] = [];
    // Counted before the parser buffers it: an event, or a line without its end, has a ceiling.
    const cap = createUnitCap(o.maxEventBytes ?? MAX_EVENT_BYTES, 'an event from signal-cli');
    const parser = createParser({
      onEvent: (e) => {
        cap.ended();
        pending.push(e);
      },
      onComment: () => cap.ended(),
    });
    const decoder = new TextDecoder();
    let gotAny = false;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      touch();
      gotAny = true;
      cap.feed(chunk);
      parser.feed(decoder.decode(chunk, { stream: true }));
      while (pending.length) {
        const e = pending.shift()!;
        if ((e.event ?? 'receive') === 'receive' && e.data) await o.onEvent(e.data);
        if (e.id) o.lastEventId?.save(e.id);
      }
    }
    return gotAny;
  } catch (err) {
    // Quiet for too long: the connection may be dead; open a new one.
    if (conn.signal.aborted && conn.signal.reason === IDLE && !o.signal.aborted) return true;
    throw err;
  } finally {
    // Whatever ended the read (an oversized event, an error), the connection goes with it.
    conn.abort();
    clearTimeout(idle);
    o.signal.removeEventListener('abort', stop);
  }
}

/** `feed` throws once a unit (a line, an event) runs past `maxBytes`; call `ended` when one completes. */
function createUnitCap(maxBytes: number, what: string): { feed(chunk: Uint8Array): void; ended(): void } {
  let pending = 0;
  return {
    feed(chunk) {
      if ((pending += chunk.byteLength) > maxBytes) throw new InputTooLarge(what, maxBytes);
    },
    ended: () => void (pending = 0),
  };
}
