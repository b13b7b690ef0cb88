// The runtime registry: adding a runtime is one file and one line here.
import path from 'node:path';
import type { RuntimeChoice } from '../config/config.js';
import type { SandboxRuntime } from '../types.js';
import { createAppleRuntime } from './apple/apple.js';
import { createBwrapRuntime } from './bwrap/bwrap.js';
import { createDockerRuntime } from './docker/docker.js';
import { defaultImageTag, installId } from './install-id.js';
import { createPodmanRuntime } from './podman/podman.js';

export interface RuntimeContext {
  dataDir: string;
  /** The install's home; defaults to the parent of dataDir. */
  home?: string;
  /** The agent image (NANOCLAW_IMAGE); defaults to this install's tag. */
  image?: string | null;
}

type Name = Exclude<RuntimeChoice, 'auto'>;

function resolved(ctx: RuntimeContext) {
  const home = ctx.home ?? path.dirname(ctx.dataDir);
  return { home, install: installId(home), image: ctx.image || defaultImageTag(home) };
}

const REGISTRY: Record<Name, (ctx: RuntimeContext) => SandboxRuntime> = {
  bwrap: (ctx) => createBwrapRuntime({ dataDir: ctx.dataDir, installId: resolved(ctx).install }),
  docker: (ctx) => { const r = resolved(ctx); return createDockerRuntime({ image: r.image, installId: r.install }); },
  podman: (ctx) => { const r = resolved(ctx); return createPodmanRuntime({ image: r.image, installId: r.install }); },
  apple: (ctx) => { const r = resolved(ctx); return createAppleRuntime({ image: r.image, installId: r.install }); },
};

/** Order tried by `auto`: a daemon's runtime when one answers, bwrap as the fallback that needs nothing running. */
const AUTO_ORDER: Name[] = ['docker', 'podman', 'apple', 'bwrap'];

export function createRuntime(name: Name, ctx: RuntimeContext): SandboxRuntime {
  return REGISTRY[name](ctx);
}

/**
 * Picks the runtime. `auto` takes the first that works and notes why the others
 * did not; an explicit choice that does not work returns no runtime and says why.
 */
export async function selectRuntime(choice: RuntimeChoice, ctx: RuntimeContext): Promise<{ runtime: SandboxRuntime | null; problems: string[] }> {
  const problems: string[] = [];
  const names = choice === 'auto' ? AUTO_ORDER : [choice];
  for (const name of names) {
    const runtime = REGISTRY[name](ctx);
    const check = await runtime.check();
    if (check.ok) return { runtime, problems };
    problems.push(choice === 'auto' ? `${name}: ${check.reason}` : `NANOCLAW_RUNTIME=${name} does not work here: ${check.reason}`);
  }
  if (choice === 'auto') problems.push('No sandbox runtime found: install bubblewrap (apt-get install bubblewrap) or Docker.');
  return { runtime: null, problems };
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
