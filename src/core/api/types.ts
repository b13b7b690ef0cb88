// What the local API answers, for its routes and the CLI; types only, so the CLI loads nothing of the server.
import type { Attachment, ChannelState, Message, RegisteredGroup } from '../types.js';

/** Any refusal (statuses: errors.ts). */
export type ErrorResponse = { error: string };

export type ApiMessage = Pick<
  Message,
  'id' | 'chatJid' | 'sender' | 'senderName' | 'text' | 'timestamp' | 'fromAssistant'
> & {
  seq: number;
  replyTo: NonNullable<Message['replyTo']> | null;
  attachments: Attachment[];
};
/** GET /api/chats/:jid/messages, oldest first. */
export type MessagesResponse = { messages: ApiMessage[] };
/** POST /api/chats/:jid/messages (202). */
export type AcceptedResponse = { id: string };

/** POST /api/groups (201), PATCH /api/groups/:jid, POST /api/pairing/:code/approve. */
export type GroupResponse = { group: RegisteredGroup };
/** DELETE /api/groups/:jid (the jid) and DELETE /api/tasks/:id (the id). */
export type RemovedResponse = { removed: string };

/** GET /api/status. */
export interface StatusResponse {
  pid: number;
  startedAt: string;
  assistantName: string;
  runtime: string | null;
  problems: string[];
  credential: boolean;
  channels: ({ name: string } & ChannelState)[];
  /** working: in a turn, else idle awaiting a follow-up. */
  agents: {
    jid: string;
    folder: string;
    name: string;
    startedAt: string;
    tool: string | null;
    working: boolean;
  }[];
  queue: { active: number; waiting: number };
  groups: number;
}
