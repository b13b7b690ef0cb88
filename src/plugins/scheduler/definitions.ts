// The scheduler's tools as the model sees them (the host parses every call with these again).
import { z } from 'zod';
import { define, text } from '../../core/tools/definitions.js';

export const MAX_TASK_PROMPT = 20_000;

const scheduleType = z.enum(['cron', 'interval', 'once']);
// Models often write an interval as a number; the host reads it as text.
const scheduleValue = z.union([z.string(), z.number()]);
const taskId = { task_id: text(100) };

export const scheduleTask = define({
  name: 'schedule_task',
  description:
    "Schedule a prompt to run later as a full agent turn. cron: 5-field cron in the user's time zone; interval: milliseconds; once: ISO timestamp. Answers with the task id and the next run times.",
  args: {
    prompt: z.string().min(1).max(MAX_TASK_PROMPT),
    schedule_type: scheduleType,
    schedule_value: scheduleValue,
    context_mode: z
      .enum(['group', 'isolated'])
      .optional()
      .describe("group: run in this chat's session; isolated (default): a fresh session"),
    target_group: text(64).optional().describe('Main chat only: the folder of the group to schedule for'),
    budget_tokens: z.number().int().positive().optional().describe('Stop a run that uses more tokens than this'),
  },
});

export const listTasks = define({
  name: 'list_tasks',
  description: "List scheduled tasks (this chat's; all of them from the main chat).",
  args: {},
});
export const getTask = define({
  name: 'get_task',
  description: 'Show one scheduled task with its recent runs.',
  args: taskId,
});

export const updateTask = define({
  name: 'update_task',
  description: "Change a scheduled task's prompt or schedule.",
  // The prompt's length is checked by the host, with a message that says the limit.
  args: {
    ...taskId,
    prompt: z.string().optional(),
    schedule_type: scheduleType.optional(),
    schedule_value: scheduleValue.optional(),
  },
});

export const pauseTask = define({ name: 'pause_task', description: 'Pause a scheduled task.', args: taskId });
export const resumeTask = define({ name: 'resume_task', description: 'Resume a paused task.', args: taskId });
export const cancelTask = define({ name: 'cancel_task', description: 'Delete a scheduled task.', args: taskId });
