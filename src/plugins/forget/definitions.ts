// The forget tools as the model sees them (the host parses every call with these again).
import { z } from 'zod';
import { define, text } from '../../core/tools/definitions.js';

const isoDate = z.string().min(4).max(40).describe('ISO date or timestamp');

export const forgetPreview = define({
  name: 'forget_preview',
  description:
    'Find what the assistant keeps that matches a phrase, a sender or a date range (messages, memory, archives, session, tasks, media, logs) and show it grouped by place. Erases nothing: show the result to the person who asked and call forget_confirm only after they say yes. Members can only forget their own messages.',
  args: {
    phrase: z.string().min(2).max(500).optional().describe('Text to forget, e.g. "surprise party"'),
    sender: text(200).optional().describe('Only messages from this sender id (the owner only)'),
    since: isoDate.optional(),
    until: isoDate.optional(),
    chat: text(200).optional().describe('Main chat only: a chat jid or group folder, or "all"; default this chat'),
  },
});
export const forgetConfirm = define({
  name: 'forget_confirm',
  description: 'Erase what a forget_preview found, after the person who asked said yes. Answers with a receipt.',
  args: { preview_id: text(40) },
});
export const forgetMe = define({
  name: 'forget_me',
  description:
    'Preview erasing everything the person who asked said in this chat, and memory lines that mention them. Confirm with forget_confirm after they say yes.',
  args: {},
});
export const whatDoYouKnowAboutMe = define({
  name: 'what_do_you_know_about_me',
  description:
    'What the assistant keeps about the person who asked: their stored messages, memory lines and tasks that mention them.',
  args: {},
});
export const dontRememberMe = define({
  name: 'dont_remember_me',
  description: "Stop keeping the asking person's future messages in this chat (they are still answered).",
  args: {},
});
export const rememberMeAgain = define({
  name: 'remember_me_again',
  description: "Keep the asking person's messages in this chat again.",
  args: {},
});
