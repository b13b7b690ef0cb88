// Runs inside the sandbox, mounted alone at /app/plugins/models.js: it may import only node built-ins (and types).
// The chat's model and effort, as the host put them in the sandbox's environment; unset, the SDK's defaults.
import type { Options } from '@anthropic-ai/claude-agent-sdk';

export function options(): Options {
  const { NANOCLAW_MODEL: model, NANOCLAW_EFFORT: effort } = process.env;
  return {
    ...(model ? { model } : {}),
    ...(effort ? { effort: effort as NonNullable<Options['effort']> } : {}),
  };
}
