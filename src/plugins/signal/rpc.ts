// signal-cli's JSON-RPC over HTTP (POST /api/v1/rpc of `signal-cli daemon --http`).
// One request per call; errors name what happened and what to run. An answer is
// read up to a cap (1 MB, or what the caller allows), never whole on trust.
import { ANSWER_MAX_BYTES, InputTooLarge, readJson } from '../../kit/bounded.js';

export const DAEMON_COMMAND = (account: string) => `signal-cli -a ${account || '+NUMBER'} daemon --http 127.0.0.1:8080`;

/** signal-cli answered with a JSON-RPC error. */
export class SignalRpcError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** signal-cli could not be reached, or answered something that is not JSON-RPC. */
export class SignalUnreachable extends Error {}

type Params = Record<string, unknown>;

export interface SignalRpc {
  /** `maxBytes`: the largest answer read (ANSWER_MAX_BYTES unless the call needs more). */
  call<T = unknown>(method: string, params?: Params, timeoutMs?: number, maxBytes?: number): Promise<T>;
}

const RPC_TIMEOUT_MS = 30_000;

export function createSignalRpc(baseUrl: string, fetchImpl: typeof fetch = fetch): SignalRpc {
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/rpc`;
  let nextId = 1;
  return {
    async call<T>(method: string, params?: Params, timeoutMs = RPC_TIMEOUT_MS, cap = ANSWER_MAX_BYTES): Promise<T> {
      const id = nextId++;
      let res: Response;
      try {
        res = await fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new SignalUnreachable(`signal-cli at ${baseUrl} did not answer ${method} (${describeFetchError(err)})`);
      }
      type Answer = { result?: T; error?: { code?: number; message?: string } };
      const body = await readJson<Answer>(res, cap, `signal-cli's answer to ${method}`).catch((err) => {
        if (err instanceof InputTooLarge) throw err;
        return null;
      });
      if (body?.error)
        throw new SignalRpcError(
          `signal-cli refused ${method}: ${body.error.message ?? 'no reason given'}`,
          body.error.code ?? 0,
        );
      if (!res.ok || !body || !('result' in body))
        throw new SignalUnreachable(
          `signal-cli at ${baseUrl} answered ${method} with HTTP ${res.status}: is this a signal-cli daemon --http address?`,
        );
      return body.result as T;
    },
  };
}

export function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
