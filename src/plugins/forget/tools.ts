// The conversational side of "memory you control". Who asks is the turn's
// requester, fixed by the host when the turn started (identity.turn), never
// taken from tool arguments or from whoever wrote last: the owner, in a turn
// only the owner started, may forget anything in that chat, and from the main
// chat in any chat or all of them; a member can only forget themself.
// Confirming takes the preview's id, which is bound to the chat and the requester.
import path from 'node:path';
import type { HomePaths } from '../../core/config/home.js';
import type { Identity } from '../../core/gateway/gateway.js';
import type { TurnContext, TurnRequester } from '../../core/conversation/turn.js';
import { describePreview, describeReceipt, type ForgetEngine, type ForgetRequest } from './engine.js';
import { matcher, matchingLines } from './files.js';
import type { Store } from '../../core/store/index.js';
import type { ToolAnswer } from '../../../runner/protocol.js';
import * as defs from './definitions.js';
import { ok, refuse } from '../../core/tools/answer.js';
import { tool, type HostTool } from '../../core/tools/registry.js';

/** Who "me" is in "forget me"; the owner's own accounts (dashboard, terminal) count as one person. */
export function soleRequester(turn: TurnContext | undefined): TurnRequester | { refused: string } {
  if (!turn || turn.taskId || !turn.requesters.length)
    return { refused: 'This is only done when a person asks in the chat: a scheduled task cannot do it.' };
  if (turn.ownerStarted || turn.requesters.length === 1) return turn.requesters[0];
  const names = turn.requesters.map((r) => (r.isOwner ? 'the owner' : r.senderName || r.sender)).join(', ');
  return {
    refused:
      `Several people addressed me in this turn (${names.slice(0, 200)}), so I cannot tell whose data this is. ` +
      'Ask them to ask again, each in a message of their own.',
  };
}

export interface ForgetToolDeps {
  store: Store;
  paths: HomePaths;
  engine: ForgetEngine;
  /** Whether a jid is a direct chat (a person's sender id is one on WhatsApp and Telegram): where a private answer can go. */
  isDirectChat?(jid: string): boolean;
}

/** Where the owner's request looks: this chat, another chat (main only) or every chat. */
export function ownerScope(
  store: Store,
  identity: Identity,
  chat: string | undefined,
): (Omit<ForgetRequest, 'scopeLabel'> & { scopeLabel: string }) | string {
  const here = store.groups.get(identity.chatJid);
  // Global memory is read by every chat's agent, so the owner's forget always covers it.
  const base = { includeHost: true };
  if (!chat || chat === 'this' || chat === identity.chatJid || chat === here?.folder)
    return {
      ...base,
      chatJids: [identity.chatJid],
      folders: here ? [here.folder] : [],
      includeGlobal: true,
      scopeLabel: `chat ${identity.chatJid}`,
    };
  if (!identity.isMain) return 'Only the main chat can forget in other chats; ask in that chat instead.';
  if (chat === 'all')
    return {
      ...base,
      chatJids: undefined,
      folders: store.groups.list().map((g) => g.folder),
      includeGlobal: true,
      scopeLabel: 'every chat',
    };
  const g = store.groups.get(chat) ?? store.groups.byFolder(chat);
  if (g) return { ...base, chatJids: [g.jid], folders: [g.folder], includeGlobal: true, scopeLabel: `chat ${g.jid}` };
  if (store.messages.chat(chat))
    return { ...base, chatJids: [chat], folders: [], includeGlobal: false, scopeLabel: `chat ${chat}` };
  return `No chat "${chat.slice(0, 80)}": give a jid or folder from list_groups, or "all".`;
}

const validDate = (s: string | undefined) => s === undefined || !Number.isNaN(Date.parse(s));
const isoOf = (s: string | undefined) => (s === undefined ? undefined : new Date(Date.parse(s)).toISOString());

export function createForgetTools(deps: ForgetToolDeps): HostTool[] {
  const { store, engine } = deps;
  const who = (identity: Identity) => soleRequester(identity.turn);
  const by = (identity: Identity, r: TurnRequester) => ({ chatJid: identity.chatJid, sender: r.sender });
  const names = (identity: Identity, r: TurnRequester) =>
    [...new Set([r.senderName, ...store.forget.namesOf(identity.chatJid, r.sender)])].filter(Boolean);

  /** A member's request: only their own messages, and lines that name them, in this chat. */
  const selfRequest = (identity: Identity, r: TurnRequester, extra: Partial<ForgetRequest> = {}): ForgetRequest => ({
    chatJids: [identity.chatJid],
    folders: [store.groups.get(identity.chatJid)?.folder].filter((f): f is string => !!f),
    includeGlobal: false,
    includeHost: false,
    sender: r.sender,
    senderNames: names(identity, r),
    scopeLabel: `${r.sender} in chat ${identity.chatJid}`,
    ...extra,
  });

  const previewAnswer = (identity: Identity, r: TurnRequester, request: ForgetRequest): ToolAnswer => {
    const p = engine.preview(request, by(identity, r));
    return ok(describePreview(p.id, p.places, p.expiresAt, p.kept));
  };

  return [
    tool(defs.forgetPreview, (identity, data) => {
      const r = who(identity);
      if ('refused' in r) return refuse(r.refused);
      const { phrase, sender, since, until, chat } = data;
      if (!validDate(since) || !validDate(until)) return refuse('since and until must be ISO dates, e.g. 2026-03-01.');
      if (!phrase && !sender && !since && !until)
        return refuse('Say what to forget: a phrase, a sender or a date range.');
      const dates = { phrase, since: isoOf(since), until: isoOf(until) };
      if (!r.isOwner) {
        if (sender && sender !== r.sender)
          return refuse("Members can only forget their own messages; only the owner can forget someone else's.");
        if (chat && chat !== 'this' && chat !== identity.chatJid)
          return refuse('Members can only forget in this chat.');
        return previewAnswer(identity, r, selfRequest(identity, r, dates));
      }
      const scope = ownerScope(store, identity, chat);
      if (typeof scope === 'string') return refuse(scope);
      const senderNames = sender && scope.chatJids?.length === 1 ? store.forget.namesOf(scope.chatJids[0], sender) : [];
      return previewAnswer(identity, r, { ...scope, ...dates, sender, senderNames });
    }),
    tool(defs.forgetMe, (identity) => {
      const r = who(identity);
      if ('refused' in r) return refuse(r.refused);
      return previewAnswer(identity, r, selfRequest(identity, r));
    }),
    tool(defs.forgetConfirm, (identity, data) => {
      const r = who(identity);
      if ('refused' in r) return refuse(r.refused);
      const res = engine.confirm(data.preview_id, by(identity, r));
      return res.ok ? ok(describeReceipt(res.receipt)) : refuse(res.error);
    }),
    tool(defs.whatDoYouKnowAboutMe, (identity) => {
      const r = who(identity);
      if ('refused' in r) return refuse(r.refused);
      const group = store.groups.get(identity.chatJid);
      const m = matcher(undefined, names(identity, r));
      const files = [
        path.join(deps.paths.global, 'CLAUDE.md'),
        ...(group ? [path.join(deps.paths.groups, group.folder, 'CLAUDE.md')] : []),
      ];
      const lines = files.flatMap((f) => matchingLines(f, m) ?? []);
      // Without the scheduler plugin there are no tasks to mention.
      const tasks = (store.tasks?.listAll() ?? []).filter((t) => t.chatJid === identity.chatJid && m.line(t.prompt));
      const out = [
        `About ${r.senderName || r.sender} in this chat:`,
        `- ${store.forget.countBySender(identity.chatJid, r.sender)} of their messages are kept.`,
        `- ${lines.length} memory line${lines.length === 1 ? '' : 's'} mention them${lines.length ? ':' : '.'}`,
        ...lines.slice(0, 10).map((l) => `    · ${m.excerpt(l)}`),
        `- ${tasks.length} scheduled task${tasks.length === 1 ? '' : 's'} concern them${tasks.length ? ': ' + tasks.map((t) => t.id).join(', ') : '.'}`,
        `- Keeping their new messages: ${store.forget.isOptedOut(identity.chatJid, r.sender) ? 'no (they opted out)' : 'yes'}.`,
        'They can say "forget me" to erase them, or "don\'t remember me" to stop new ones being kept.',
      ];
      // Privately where the channel allows: the sender's own id is their direct chat.
      const direct = deps.isDirectChat ?? (() => false);
      if (!direct(identity.chatJid) && direct(r.sender)) {
        store.outbox.enqueue(r.sender, out.join('\n'), { kind: 'system' });
        return ok(
          'Sent to them privately as a direct message; tell them to look there (nothing about them is said in this chat).',
        );
      }
      return ok(out.join('\n'));
    }),
    tool(defs.dontRememberMe, (identity) => {
      const r = who(identity);
      if ('refused' in r) return refuse(r.refused);
      store.forget.optOut(identity.chatJid, r.sender, r.senderName);
      return ok(
        `From now on nothing ${r.senderName || r.sender} says in this chat is kept beyond the turn that answers it (they are still answered). What is already kept stays until they say "forget me".`,
      );
    }),
    tool(defs.rememberMeAgain, (identity) => {
      const r = who(identity);
      if ('refused' in r) return refuse(r.refused);
      const was = store.forget.optIn(identity.chatJid, r.sender);
      return ok(
        was
          ? 'Their messages in this chat are kept again from now on.'
          : 'Their messages in this chat were already being kept.',
      );
    }),
  ];
}
