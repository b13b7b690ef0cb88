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

export const searchMessages = define({
  name: 'search_messages',
  description:
    "Full-text search over this chat's message history (all chats from the main chat), best matches first, with sender, time and chat.",
  args: { query: text(500), limit: z.number().int().min(1).max(100).optional() },
});

const s = z.string();
export const registerGroup = define({
  name: 'register_group',
  description: 'Main chat only: make the assistant answer in a chat. Folder: lowercase letters, digits, - and _.',
  args: { jid: s, name: s, folder: s, trigger: s.optional(), requires_trigger: z.boolean().optional() },
  mainOnly: true,
});

export const unregisterGroup = define({
  name: 'unregister_group',
  description: 'Main chat only: stop answering in a chat.',
  args: { jid: s },
  mainOnly: true,
});

export const listGroups = define({
  name: 'list_groups',
  description: 'Main chat only: registered chats, and chats seen but not registered.',
  args: {},
  mainOnly: true,
});
