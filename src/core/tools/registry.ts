// Each nanoclaw tool is declared once; parsing, the main-only rule and "ask me first" follow, no handler restates them.
import { z } from 'zod';
import type { ToolAnswer, ToolSpec } from '../../../runner/protocol.js';
import type { Action } from '../ask.js';
import type { Identity } from '../gateway/gateway.js';
import { refuse } from './answer.js';
import type { ToolDefinition } from './definitions.js';

type Args<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;

/** What the owner must approve before this call runs, or null. */
export type ApprovalOf<S extends z.ZodRawShape> = (identity: Identity, args: Args<S>) => Omit<Action, 'reason'> | null;

export interface HostTool {
  def: ToolDefinition;
  approval?: ApprovalOf<z.ZodRawShape>;
  handle(identity: Identity, args: unknown): ToolAnswer | Promise<ToolAnswer>;
}

export const tool = <S extends z.ZodRawShape>(
  def: ToolDefinition<S>,
  handle: (identity: Identity, args: Args<NoInfer<S>>) => ToolAnswer | Promise<ToolAnswer>,
  { approval }: { approval?: ApprovalOf<NoInfer<S>> } = {},
) => ({ def, handle, approval }) as HostTool;

export interface RegistryDeps {
  tools: readonly HostTool[];
  /** Null to go ahead, or why not. */
  approve?(identity: Identity, action: Omit<Action, 'reason'>): Promise<string | null>;
}

/** With the specs the runner shows the model. */
export type ToolCall = ((identity: Identity, name: string, args: unknown) => Promise<ToolAnswer>) & {
  specs?: ToolSpec[];
};

export function createToolRegistry(deps: RegistryDeps): ToolCall {
  const byName = new Map<string, HostTool>();
  for (const t of deps.tools) {
    if (byName.has(t.def.name)) throw new Error(`Two tools are named "${t.def.name}"; each tool is declared once.`);
    byName.set(t.def.name, t);
  }
  const call = async (identity: Identity, name: string, args: unknown) => {
    const t = byName.get(name);
    if (!t) return refuse(`Unknown tool "${String(name).slice(0, 40)}".`);
    if (t.def.mainOnly && !identity.isMain) return refuse(`Only the main chat can use ${t.def.name}.`);
    const p = z.object(t.def.args).safeParse(args ?? {});
    if (!p.success)
      return refuse(
        `Invalid arguments: ${p.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}`,
      );
    // Who started the turn when the call arrived: an approval wait does not change it.
    const called = { ...identity };
    const action = t.approval?.(called, p.data);
    const held = action && (await deps.approve?.(called, action));
    return held ? refuse(held) : t.handle(called, p.data);
  };
  const specs = deps.tools.map(({ def }): ToolSpec => ({
    name: def.name,
    description: def.description,
    inputSchema: z.toJSONSchema(z.object(def.args)),
  }));
  return Object.assign(call, { specs });
}
