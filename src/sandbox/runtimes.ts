// The runtime registry: adding a runtime is one file and one line here.
import type { RuntimeChoice } from '../config.js';
import type { SandboxRuntime } from '../types.js';
import { createBwrapRuntime } from './bwrap.js';

export interface RuntimeContext { dataDir: string }

const REGISTRY: Record<Exclude<RuntimeChoice, 'auto'>, ((ctx: RuntimeContext) => SandboxRuntime) | undefined> = {
  bwrap: (ctx) => createBwrapRuntime(ctx),
  docker: undefined,
  podman: undefined,
  apple: undefined,
};

/** Order tried by `auto`. */
const AUTO_ORDER: Exclude<RuntimeChoice, 'auto'>[] = ['docker', 'podman', 'apple', 'bwrap'];

export async function selectRuntime(choice: RuntimeChoice, ctx: RuntimeContext): Promise<{ runtime: SandboxRuntime | null; problems: string[] }> {
  const problems: string[] = [];
  const names = choice === 'auto' ? AUTO_ORDER : [choice];
  for (const name of names) {
    const make = REGISTRY[name];
    if (!make) {
      if (choice !== 'auto') problems.push(`The ${name} runtime is not available in this version of NanoClaw; use NANOCLAW_RUNTIME=bwrap.`);
      continue;
    }
    const runtime = make(ctx);
    const check = await runtime.check();
    if (check.ok) return { runtime, problems };
    problems.push(`${name}: ${check.reason}`);
  }
  if (choice === 'auto') problems.push('No sandbox runtime found: install bubblewrap (apt-get install bubblewrap) or Docker.');
  return { runtime: null, problems };
}
