// The core's tool definitions, and how any tool is defined: the schema the model sees (sent to the runner as JSON
// Schema when a sandbox starts) and the host parses every call with again, never trusting the runner.
import { z } from 'zod';

export interface ToolDefinition<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  description: string;
  args: S;
  mainOnly?: boolean;
}

export const text = (max: number) => z.string().min(1).max(max);

export const define = <S extends z.ZodRawShape>(def: ToolDefinition<S>): ToolDefinition<S> => def;

export const sendMessage = define({
  name: 'send_message',
  description:
    'Send a message to this chat now (progress updates, several messages, or a sub-agent speaking under its own name). Your final answer is sent anyway.',
  args: {
    text: text(64_000).describe('The message text'),
    sender: text(50)
      .regex(/^[^\r\n:]+$/, 'one line, no ":"')
      .optional()
      .describe('Persona name shown as the sender, for agent teams'),
    file: text(500)
      .optional()
      .describe(
        'A file in /workspace/group to send with the text as its caption (an image is sent as a photo), e.g. a screenshot',
      ),
  },
});
