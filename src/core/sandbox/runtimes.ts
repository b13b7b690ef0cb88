// Picking the sandbox runtime: bubblewrap is built in; other runtimes come from plugins (src/plugins/containers)
// and must be named in RUNTIME_NAMES (config.ts).
import path from 'node:path';
import { RUNTIME_NAMES, type Config, type RuntimeChoice, type RuntimeName } from '../config/config.js';
import type { HomePaths } from '../config/home.js';
import type { SandboxRuntime } from '../types.js';
import { createBwrapRuntime } from './bwrap.js';
import { defaultImageTag, installId } from './install-id.js';

export interface RuntimeContext {
  dataDir: string;
  /** The install's home; defaults to the parent of dataDir. */
  home?: string;
  /** The agent image (NANOCLAW_IMAGE); defaults to this install's tag. */
  image?: string | null;
  /** Runtimes the plugins bring, besides bubblewrap. */
  more?: Readonly<Record<string, RuntimeFactory>>;
}

export type RuntimeFactory = (ctx: RuntimeContext) => SandboxRuntime;

/** The install's home, its id and the agent image a container runtime uses. */
export function resolved(ctx: RuntimeContext) {
  const home = ctx.home ?? path.dirname(ctx.dataDir);
  return { home, install: installId(home), image: ctx.image || defaultImageTag(home) };
}

const bwrap: RuntimeFactory = (ctx) => createBwrapRuntime({ dataDir: ctx.dataDir, installId: resolved(ctx).install });
const factory = (name: RuntimeName, ctx: RuntimeContext): RuntimeFactory | undefined =>
  name === 'bwrap' ? bwrap : ctx.more?.[name];

type Name = RuntimeName;
export { RUNTIME_NAMES, type RuntimeName };

/** Order tried by `auto`: a daemon's runtime when one answers, bwrap as the fallback that needs nothing running. */
const AUTO_ORDER: Name[] = ['docker', 'podman', 'apple', 'bwrap'];

/**
 * Picks the runtime. `auto` takes the first that works; the ones it passed over
 * are `skipped` (shown on request, never as problems: the user does not use
 * them). Problems are only what stops sandboxes: no runtime at all, or an
 * explicit choice that does not work here.
 */
export async function selectRuntime(
  choice: RuntimeChoice,
  ctx: RuntimeContext,
): Promise<{ runtime: SandboxRuntime | null; problems: string[]; skipped: string[] }> {
  const skipped: string[] = [];
  const names = choice === 'auto' ? AUTO_ORDER.filter((n) => factory(n, ctx)) : [choice];
  for (const name of names) {
    const make = factory(name, ctx);
    if (!make) {
      skipped.push(`NANOCLAW_RUNTIME=${name} does not work here: its plugin is not enabled (src/plugins/index.ts)`);
      continue;
    }
    const runtime = make(ctx);
    const check = await runtime.check();
    if (check.ok) return { runtime, problems: [], skipped };
    skipped.push(
      choice === 'auto' ? `${name}: ${check.reason}` : `NANOCLAW_RUNTIME=${name} does not work here: ${check.reason}`,
    );
  }
  const problems =
    choice === 'auto'
      ? [...skipped, 'No sandbox runtime found: install bubblewrap (apt-get install bubblewrap) or Docker.']
      : skipped;
  return { runtime: null, problems, skipped: [] };
}

/**
 * The host's runtime at start: the one given (tests, bench) or the one selected,
 * with old sandboxes of this install removed, and every problem to show in status.
 */
export async function prepareRuntime(
  config: Config,
  paths: HomePaths,
  given?: SandboxRuntime | null,
  more?: RuntimeContext['more'],
): Promise<{ runtime: SandboxRuntime | null; problems: string[] }> {
  const { runtime, problems } =
    given !== undefined
      ? { runtime: given, problems: [] as string[] }
      : await selectRuntime(config.runtime, {
          dataDir: paths.data,
          home: config.home,
          image: config.sandboxImage,
          more,
        });
  // Sandboxes a crashed run of this install left behind (never another install's).
  await runtime
    ?.removeOrphans?.()
    .catch((err) => problems.push(`Could not remove old sandboxes: ${(err as Error).message}`));
  if (!config.credential)
    problems.push(
      'No Anthropic credential: set ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN) in the environment or in .env in ' +
        config.home +
        ', then restart.',
    );
  return { runtime, problems };
}

/** Why each runtime would or would not be used, for `nanoclaw doctor`. */
export async function describeRuntimes(ctx: RuntimeContext): Promise<{ name: Name; ok: boolean; detail: string }[]> {
  const out: { name: Name; ok: boolean; detail: string }[] = [];
  for (const name of AUTO_ORDER) {
    const make = factory(name, ctx);
    if (!make) continue;
    const runtime = make(ctx);
    const check = await runtime.check();
    out.push({ name, ok: check.ok, detail: check.ok ? (runtime.describe?.() ?? name) : check.reason });
  }
  return out;
}
