// Picks the sandbox runtime: bubblewrap is built in; plugins bring the others named in RUNTIME_NAMES (config.ts).
import { RUNTIME_NAMES, type Config, type RuntimeChoice, type RuntimeName } from '../config/config.js';
import type { HomePaths } from '../config/home.js';
import type { SandboxRuntime } from '../types.js';
import { createBwrapRuntime, type BwrapLimits } from './bwrap.js';
import { installId } from './install-id.js';

export interface RuntimeContext {
  dataDir: string;
  home: string;
  /** Config.env, where the container runtimes read NANOCLAW_IMAGE. */
  env?: Config['env'];
  /** The plugins' runtimes; one named bwrap replaces the built-in (bwrap with the limits plugin's cgroups). */
  more?: Readonly<Record<string, RuntimeFactory>>;
}

export type RuntimeFactory = (ctx: RuntimeContext) => SandboxRuntime;

export const bwrapRuntime = (ctx: RuntimeContext, limits?: BwrapLimits) =>
  createBwrapRuntime({ dataDir: ctx.dataDir, installId: installId(ctx.home), limits });
export const runtimeFactory = (name: RuntimeName, ctx: RuntimeContext) =>
  ctx.more?.[name] ?? (name === 'bwrap' ? bwrapRuntime : undefined);

export { RUNTIME_NAMES };

/**
 * `auto` takes the first runtime that works; those passed over are `skipped` (never problems: the user does not use
 * them). Problems stop sandboxes: no runtime at all, or an explicit choice failing here.
 */
export async function selectRuntime(
  choice: RuntimeChoice,
  ctx: RuntimeContext,
): Promise<{ runtime: SandboxRuntime | null; problems: string[]; skipped: string[] }> {
  const skipped: string[] = [];
  const auto = choice === 'auto';
  for (const name of auto ? RUNTIME_NAMES.filter((n) => runtimeFactory(n, ctx)) : [choice]) {
    const runtime = runtimeFactory(name, ctx)?.(ctx);
    const check = runtime
      ? await runtime.check()
      : { ok: false, reason: 'its plugin is not in the plugin list (index.ts in the plugins folder)' };
    if (check.ok) return { runtime: runtime!, problems: [], skipped };
    skipped.push(`${auto ? `${name}:` : `NANOCLAW_RUNTIME=${name} does not work here:`} ${check.reason}`);
  }
  if (auto) skipped.push('No sandbox runtime found: install bubblewrap (apt-get install bubblewrap) or Docker.');
  return { runtime: null, problems: skipped, skipped: [] };
}

/** The runtime at start, given (tests, bench) or selected, this install's old sandboxes removed; problems for status. */
export async function prepareRuntime(
  config: Config,
  paths: HomePaths,
  given?: SandboxRuntime | null,
  more?: RuntimeContext['more'],
): Promise<{ runtime: SandboxRuntime | null; problems: string[] }> {
  const ctx = { dataDir: paths.data, home: config.home, env: config.env, more };
  const { runtime, problems } =
    given !== undefined ? { runtime: given, problems: [] as string[] } : await selectRuntime(config.runtime, ctx);
  await runtime
    ?.removeOrphans?.()
    .catch((err) => problems.push(`Could not remove old sandboxes: ${(err as Error).message}`));
  if (!config.credential)
    problems.push(
      `No Anthropic credential: set ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN) in the environment or in .env in ${config.home}, then restart.`,
    );
  return { runtime, problems };
}
