// Every tool definition the default install has: the core's and the plugins' (the runner gets them at start).
import * as core from '../../src/core/tools/definitions.js';
import type { ToolDefinition } from '../../src/core/tools/definitions.js';
import * as email from '../../src/plugins/email/definitions.js';
import * as forget from '../../src/plugins/forget/definitions.js';
import * as groups from '../../src/plugins/groups/definitions.js';
import * as mcp from '../../src/plugins/mcp/definitions.js';
import * as scheduler from '../../src/plugins/scheduler/definitions.js';
import * as search from '../../src/plugins/search/definitions.js';

const isDefinition = (v: unknown): v is ToolDefinition =>
  !!v && typeof v === 'object' && typeof (v as ToolDefinition).name === 'string' && 'args' in (v as object);

export const TOOL_DEFINITIONS: readonly ToolDefinition[] = [
  core,
  search,
  groups,
  scheduler,
  forget,
  email,
  mcp,
].flatMap((m) => Object.values(m).filter(isDefinition));
export type { ToolDefinition };
