// The agent's search over what was said.
import { z } from 'zod';
import { define, text } from '../../core/tools/definitions.js';

export const searchMessages = define({
  name: 'search_messages',
  description:
    "Full-text search over this chat's message history (all chats from the main chat), best matches first, with sender, time and chat.",
  args: { query: text(500), limit: z.number().int().min(1).max(100).optional() },
});
