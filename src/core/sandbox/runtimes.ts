// The runtime registry: adding a runtime is one file, one line here and its name in RUNTIME_NAMES (config.ts).
import path from 'node:path';
import { RUNTIME_NAMES, type Config, type RuntimeChoice, type RuntimeName } from '../config/config.js';
import type { HomePaths } from '../config/home.js';
import type { SandboxRuntime } from '../types.js';
import { createAppleRuntime } from '../../plugins/containers/apple.js';
import { createBwrapRuntime } from './bwrap.js';
import { createDockerRuntime } from '../../plugins/containers/docker.js';
import { defaultImageTag, installId } from './install-id.js';
import { createPodmanRuntime } from '../../plugins/containers/podman.js';

export interface RuntimeContext {
  dataDir: string;
  /** The install's home; defaults to the parent of dataDir. */
  home?: string;
  /** The agent image (NANOCLAW_IMAGE); defaults to this install's tag. */
  image?: string | null;
}

function resolved(ctx: RuntimeContext) {
  const home = ctx.home ?? path.dirname(ctx.dataDir);
  return { home, install: installId(home), image: ctx.image || defaultImageTag(home) };
}

const REGISTRY = {
  docker: (ctx) => {
    const r = resolved(ctx);
    return createDockerRuntime({ image: r.image, installId: r.install });
  },
  podman: (ctx) => {
    const r = resolved(ctx);
    return createPodmanRuntime({ image: r.image, installId: r.install });
  },
  apple: (ctx) => {
    const r = resolved(ctx);
    return createAppleRuntime({ image: r.image, installId: r.install });
  },
  bwrap: (ctx) => createBwrapRuntime({ dataDir: ctx.dataDir, installId: resolved(ctx).install }),
} satisfies Record<RuntimeName, (ctx: RuntimeContext) => SandboxRuntime>;

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
  const names = choice === 'auto' ? AUTO_ORDER : [choice];
  for (const name of names) {
    const runtime = REGISTRY[name](ctx);
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
): Promise<{ runtime: SandboxRuntime | null; problems: string[] }> {
  const { runtime, problems } =
    given !== undefined
      ? { runtime: given, problems: [] as string[] }
      : await selectRuntime(config.runtime, { dataDir: paths.data, home: config.home, image: config.sandboxImage });
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
    const runtime = REGISTRY[name](ctx);
    const check = await runtime.check();
    out.push({ name, ok: check.ok, detail: check.ok ? (runtime.describe?.() ?? name) : check.reason });
  }
  return out;
}
