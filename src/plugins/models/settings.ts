// A chat's model and effort: the settings (sandbox.model, sandbox.effort), what a chat runs with (its own, else the
// host's NANOCLAW_MODEL and NANOCLAW_EFFORT, else the SDK's), and what an upstream's refusal says about a model.
import type { RegisteredGroup, SandboxSettings } from '../../core/types.js';

export const EFFORTS = ['low', 'medium', 'high'] as const;
export type Effort = (typeof EFFORTS)[number];

declare module '../../core/types.js' {
  interface SandboxSettings {
    /** A model id or alias the upstream serves (claude-sonnet-4-5, opus); unset: the host's. */
    model?: string;
    /** How hard the model thinks; unset: the host's. */
    effort?: Effort;
  }
}

/** Ids such as claude-opus-4-1-20250805, us.anthropic.claude-sonnet-4-5-v1:0, opus. */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,99}$/;

export const modelProblem = (model: unknown): string | null =>
  typeof model === 'string' && MODEL_ID.test(model)
    ? null
    : `model must be a model id such as claude-sonnet-4-5 or opus (letters, digits and . _ : @ / -, at most 100), ` +
      `not "${String(model).slice(0, 100)}".`;

export const effortProblem = (effort: unknown): string | null =>
  EFFORTS.includes(effort as Effort)
    ? null
    : `effort must be low, medium or high, not "${String(effort).slice(0, 50)}".`;

/** Why these changed settings are refused, or null. */
export function checkModelSettings(changed: SandboxSettings): string | null {
  const problem =
    (changed.model !== undefined && modelProblem(changed.model)) ||
    (changed.effort !== undefined && effortProblem(changed.effort));
  return problem ? `Invalid settings: sandbox.${problem}` : null;
}

export interface HostDefaults {
  model: string | null;
  effort: Effort | null;
}

/** The host's own (.env), each null when unset or not valid (problems() says which). */
export function hostDefaults(env: Readonly<Record<string, string | undefined>>): HostDefaults & { problems: string[] } {
  const model = env.NANOCLAW_MODEL?.trim() || null;
  const effort = env.NANOCLAW_EFFORT?.trim() || null;
  const problems = [
    model && modelProblem(model) && `NANOCLAW_MODEL in .env: ${modelProblem(model)}`,
    effort && effortProblem(effort) && `NANOCLAW_EFFORT in .env: ${effortProblem(effort)}`,
  ].filter((p): p is string => !!p);
  return {
    model: model && !modelProblem(model) ? model : null,
    effort: effort && !effortProblem(effort) ? (effort as Effort) : null,
    problems,
  };
}

/** What this chat runs with; null: the SDK's default. */
export const chatModel = (group: Pick<RegisteredGroup, 'sandbox'>, host: HostDefaults) => ({
  model: group.sandbox.model ?? host.model,
  effort: group.sandbox.effort ?? host.effort,
});

/**
 * The upstream's words when it refused the requested model (404 not_found_error "model: xyz", or a 400 that says the
 * model is invalid), else null.
 */
export function modelRefusal(status: number, body: string): string | null {
  if (status !== 404 && status !== 400) return null;
  let error: { type?: unknown; message?: unknown } | undefined;
  try {
    error = JSON.parse(body)?.error;
  } catch {
    return null;
  }
  const message = typeof error?.message === 'string' ? error.message.slice(0, 300) : '';
  if (!/\bmodel\b/i.test(message)) return null;
  if (status === 404 && error?.type === 'not_found_error') return message;
  return status === 400 && /invalid|unknown|not (found|supported|available)|does not exist/i.test(message)
    ? message
    : null;
}
