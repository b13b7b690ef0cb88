// What the model API's answers say about whether the assistant can answer at
// all. The gateway sees each upstream status first, so it classifies them here:
// a refused credential (401/403) will be refused again, so it is remembered and
// later calls are answered at once; an unreachable or overloaded upstream is
// worth retrying, but the chat should hear that its answer is delayed.
import crypto from 'node:crypto';
import type { Credential } from '../config/config.js';

export type ModelProblemKind = 'auth' | 'unavailable';

export interface ModelProblem {
  kind: ModelProblemKind;
  /** The upstream's HTTP status; null when it could not be reached. */
  status: number | null;
  /** What went wrong, in full, for the chat and the logs. */
  message: string;
  /** The one thing to do about it. */
  fix: string;
  at: string;
}

export type ModelOutcome = { ok: true } | { ok: false; problem: ModelProblem };

type Kind = Credential['kind'] | null | undefined;

/** The variable that holds the credential in use. */
export const credentialName = (kind: Kind): string =>
  kind === 'oauth' ? 'CLAUDE_CODE_OAUTH_TOKEN' : 'ANTHROPIC_API_KEY';

export const authFix = (kind: Kind): string =>
  `run "nanoclaw auth claude", or set a valid ${credentialName(kind)} in .env, then restart NanoClaw`;

/** The error message inside an Anthropic-style error body, or the body's start. */
export function errorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body);
    const msg = parsed?.error?.message ?? parsed?.message;
    if (typeof msg === 'string' && msg.trim()) return clip(msg.trim(), 300);
  } catch {
    /* not JSON */
  }
  return clip(body.replace(/\s+/g, ' ').trim(), 300);
}

/** Shortens at a word boundary, never mid-word. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}

const problem = (kind: ModelProblemKind, status: number | null, message: string, fix: string): ModelProblem => ({
  kind,
  status,
  message,
  fix,
  at: new Date().toISOString(),
});

/** The problem an upstream status stands for; null for statuses that are not about reaching the model (a 400, say). */
export function classifyStatus(status: number, detail: string, cred: Credential['kind'] | null): ModelProblem | null {
  const what = detail ? `HTTP ${status}: ${detail}` : `HTTP ${status}`;
  if (status === 401 || status === 403)
    return problem(
      'auth',
      status,
      `the model API refused NanoClaw's credential, ${credentialName(cred)} (${what})`,
      authFix(cred),
    );
  if (status === 429 || status >= 500)
    return problem(
      'unavailable',
      status,
      `the model API failed (${status === 529 ? 'overloaded, ' : status === 429 ? 'rate limited, ' : ''}${what})`,
      'NanoClaw retries by itself; if it lasts, check the status of the model API',
    );
  return null;
}

export function unreachable(upstream: string, err: Error): ModelProblem {
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return problem(
    'unavailable',
    null,
    `the model API failed (cannot reach ${upstream}: ${cause?.code ?? cause?.message ?? err.message})`,
    `check that ${upstream} (ANTHROPIC_BASE_URL) is up and reachable; NanoClaw retries by itself`,
  );
}

/** The full sentence for the chat. */
export const describeProblem = (p: ModelProblem): string =>
  p.kind === 'auth' ? `${p.message}. To fix it: ${p.fix}` : p.message;

const fingerprint = (value: string) => crypto.createHash('sha256').update(value).digest('hex');

/**
 * Remembers a credential the upstream refused, so later calls with the same
 * credential get the same answer at once instead of going out again. A new
 * credential (a refreshed token, a fixed .env) goes out; the memory also fades
 * after `ttlMs`, in case the refusal was fixed on the provider's side.
 */
export function refusalMemory(ttlMs = 5 * 60_000, now = () => Date.now()) {
  let refused: { print: string; until: number; status: number; body: string; problem: ModelProblem } | null = null;
  return {
    remember(cred: Credential, status: number, body: string, problem: ModelProblem): void {
      refused = { print: fingerprint(cred.value), until: now() + ttlMs, status, body, problem };
    },
    recall(cred: Credential): { status: number; body: string; problem: ModelProblem } | null {
      if (!refused || refused.print !== fingerprint(cred.value) || now() > refused.until) return null;
      return refused;
    },
    forget(): void {
      refused = null;
    },
  };
}
