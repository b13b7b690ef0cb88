// The mcp__nanoclaw__ tools, each a thin call to the gateway: the host decides what a group may do.
import { createSdkMcpServer, tool } from '@anthropic-ai/claude-agent-sdk';
import { z } from 'zod';
import { callGateway } from './gateway-client.js';
import type { ToolAnswer, ToolSpec } from './protocol.js';

// For the runner, which loads the SDK only once it has its first turn.
export { query } from '@anthropic-ai/claude-agent-sdk';

/** The host's tools, as it described them at start (JSON Schema, back into the shape the SDK takes). */
export const nanoclawServer = (socketPath: string, specs: readonly ToolSpec[]) =>
  createSdkMcpServer({
    name: 'nanoclaw',
    version: '1.0.0',
    tools: specs.map((d) =>
      tool(d.name, d.description, (z.fromJSONSchema(d.inputSchema) as z.ZodObject).shape, async (args) => {
        const a: ToolAnswer = await callGateway<ToolAnswer>(socketPath, `/tools/${d.name}`, args ?? {}).catch(
          (err) => ({ ok: false, error: `The assistant's host could not be reached: ${err.message}` }),
        );
        const content = [{ type: 'text' as const, text: a.ok ? a.text : `Refused: ${a.error}` }];
        return a.ok ? { content } : { content, isError: true };
      }),
    ),
  });
