// The main chat's tools for which chats the assistant answers in.
import { z } from 'zod';
import { define } from '../../core/tools/definitions.js';

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
