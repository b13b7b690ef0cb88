// What an upstream answer says: a refused credential (401/403) will be refused again; an unreachable or overloaded
// upstream is worth retrying, but the chat should hear that its answer is delayed.
import type { Credential } from '../config/config.js';

export interface ModelProblem {
  kind: 'auth' | 'unavailable';
  /** Null when the upstream could not be reached. */
  status: number | null;
  message: string;
  fix: string;
  at: string;
}

export type ModelOutcome = { ok: true } | { ok: false; problem: ModelProblem };

type Kind = Credential['kind'] | null | undefined;

export const credentialName = (kind: Kind) => (kind === 'oauth' ? 'CLAUDE_CODE_OAUTH_TOKEN' : 'ANTHROPIC_API_KEY');

export const authFix = (kind: Kind) =>
  `run "nanoclaw auth claude", or set a valid ${credentialName(kind)} in .env; the next message uses it`;

/** The message inside an Anthropic-style error body, or the body's start. */
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

/** Shortens at a word boundary. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}

function problem(kind: ModelProblem['kind'], status: number | null, message: string, fix: string): ModelProblem {
  return { kind, status, message, fix, at: new Date().toISOString() };
}

/** Null for a status that is not about reaching the model (a 400, say). */
export function classifyStatus(status: number, detail: string, cred: Kind): ModelProblem | null {
  const what = detail ? `HTTP ${status}: ${detail}` : `HTTP ${status}`;
  const refused = `the model API refused NanoClaw's credential, ${credentialName(cred)} (${what})`;
  if (status === 401 || status === 403) return problem('auth', status, refused, authFix(cred));
  if (status !== 429 && status < 500) return null;
  const why = status === 529 ? 'overloaded, ' : status === 429 ? 'rate limited, ' : '';
  const fix = 'NanoClaw retries by itself; if it lasts, check the status of the model API';
  return problem('unavailable', status, `the model API failed (${why}${what})`, fix);
}

export function unreachable(upstream: string, err: Error): ModelProblem {
  const cause = err.cause as { code?: string; message?: string } | undefined;
  const why = cause?.code ?? cause?.message ?? err.message;
  const fix = `check that ${upstream} (ANTHROPIC_BASE_URL) is up and reachable; NanoClaw retries by itself`;
  return problem('unavailable', null, `the model API failed (cannot reach ${upstream}: ${why})`, fix);
}

export const describeProblem = (p: ModelProblem) =>
  p.kind === 'auth' ? `${p.message}. To fix it: ${p.fix}` : p.message;
