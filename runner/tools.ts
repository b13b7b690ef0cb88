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
      tool(
        def.name,
        def.description,
        (z.fromJSONSchema(def.inputSchema) as z.ZodObject).shape,
        async (args: unknown) => {
          let answer: ToolAnswer;
          try {
            answer = await callGateway<ToolAnswer>(socketPath, 'POST', `/tools/${def.name}`, args ?? {});
          } catch (err) {
            answer = { ok: false, error: `The assistant's host could not be reached: ${(err as Error).message}` };
          }
          return answer.ok
            ? { content: [{ type: 'text' as const, text: answer.text }] }
            : { content: [{ type: 'text' as const, text: `Refused: ${answer.error}` }], isError: true };
        },
      ),
    ),
  });
}
