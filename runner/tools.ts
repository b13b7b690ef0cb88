// The nanoclaw MCP tools the agent sees as mcp__nanoclaw__<name>. Each one is
// a thin call to the gateway: the host decides what the calling group may do,
// so nothing here is trusted and nothing here needs a secret.
import { createSdkMcpServer, tool } from '@anthropic-ai/claude-agent-sdk';
import { z } from 'zod';
import { callGateway } from './gateway-client.js';
import type { ToolAnswer } from './protocol.js';

type Shape = Record<string, z.ZodTypeAny>;

interface ToolDef { name: string; description: string; shape: Shape; mainOnly?: boolean }

const scheduleType = z.enum(['cron', 'interval', 'once']);

export const TOOL_DEFS: ToolDef[] = [
  {
    name: 'send_message',
    description: 'Send a message to this chat now (progress updates, several messages, or a sub-agent speaking under its own name). Your final answer is sent anyway.',
    shape: { text: z.string().describe('The message text'), sender: z.string().optional().describe('Persona name shown as the sender, for agent teams') },
  },
  {
    name: 'schedule_task',
    description: 'Schedule a prompt to run later as a full agent turn. cron: 5-field cron in the user\'s time zone; interval: milliseconds; once: ISO timestamp. Answers with the task id and the next run times.',
    shape: {
      prompt: z.string(),
      schedule_type: scheduleType,
      schedule_value: z.string(),
      context_mode: z.enum(['group', 'isolated']).optional().describe('group: run in this chat\'s session; isolated (default): a fresh session'),
      target_group: z.string().optional().describe('Main chat only: the folder of the group to schedule for'),
      budget_tokens: z.number().int().positive().optional().describe('Stop a run that uses more tokens than this'),
    },
  },
  { name: 'list_tasks', description: 'List scheduled tasks (this chat\'s; all of them from the main chat).', shape: {} },
  { name: 'get_task', description: 'Show one scheduled task with its recent runs.', shape: { task_id: z.string() } },
  {
    name: 'update_task',
    description: 'Change a scheduled task\'s prompt or schedule.',
    shape: { task_id: z.string(), prompt: z.string().optional(), schedule_type: scheduleType.optional(), schedule_value: z.string().optional() },
  },
  { name: 'pause_task', description: 'Pause a scheduled task.', shape: { task_id: z.string() } },
  { name: 'resume_task', description: 'Resume a paused task.', shape: { task_id: z.string() } },
  { name: 'cancel_task', description: 'Delete a scheduled task.', shape: { task_id: z.string() } },
  {
    name: 'search_messages',
    description: 'Full-text search over this chat\'s message history (all chats from the main chat), best matches first, with sender, time and chat.',
    shape: { query: z.string(), limit: z.number().int().positive().max(100).optional() },
  },
  {
    name: 'register_group',
    description: 'Main chat only: make the assistant answer in a chat. Folder: lowercase letters, digits, - and _.',
    shape: { jid: z.string(), name: z.string(), folder: z.string(), trigger: z.string().optional(), requires_trigger: z.boolean().optional() },
    mainOnly: true,
  },
  { name: 'unregister_group', description: 'Main chat only: stop answering in a chat.', shape: { jid: z.string() }, mainOnly: true },
  { name: 'list_groups', description: 'Main chat only: registered chats, and chats seen but not registered.', shape: {}, mainOnly: true },
];

export function nanoclawServer(socketPath: string) {
  return createSdkMcpServer({
    name: 'nanoclaw',
    version: '1.0.0',
    tools: TOOL_DEFS.map((def) =>
      tool(def.name, def.description, def.shape, async (args: unknown) => {
        let answer: ToolAnswer;
        try {
          answer = await callGateway<ToolAnswer>(socketPath, 'POST', `/tools/${def.name}`, args ?? {});
        } catch (err) {
          answer = { ok: false, error: `The assistant's host could not be reached: ${(err as Error).message}` };
        }
        return answer.ok
          ? { content: [{ type: 'text' as const, text: answer.text }] }
          : { content: [{ type: 'text' as const, text: `Refused: ${answer.error}` }], isError: true };
      }),
    ),
  });
}
