// The mcp__nanoclaw__ tools, each a thin call to the gateway: the host decides what a group may do.
import { createSdkMcpServer, tool } from '@anthropic-ai/claude-agent-sdk';
import { callGateway } from './gateway-client.js';
import { z } from 'zod';
import type { ToolAnswer, ToolSpec } from './protocol.js';

/** The host's tools, as it described them at start (JSON Schema, back into the shape the SDK takes). */
export function nanoclawServer(socketPath: string, specs: readonly ToolSpec[]) {
  return createSdkMcpServer({
    name: 'nanoclaw',
    version: '1.0.0',
    tools: specs.map((def) =>
      tool(def.name, def.description, (z.fromJSONSchema(def.inputSchema) as z.ZodObject).shape, async (args) => {
        let a: ToolAnswer;
        try {
          a = await callGateway<ToolAnswer>(socketPath, 'POST', `/tools/${def.name}`, args ?? {});
        } catch (err) {
          a = { ok: false, error: `The assistant's host could not be reached: ${(err as Error).message}` };
        }
        const content = [{ type: 'text' as const, text: a.ok ? a.text : `Refused: ${a.error}` }];
        return a.ok ? { content } : { content, isError: true };
      }),
    ),
  });
}
