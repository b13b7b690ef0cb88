// The host side of the core's nanoclaw tools. The caller is the gateway endpoint the call arrived on, never an
// argument; a refused call says why and changes nothing.
import path from 'node:path';
import { resolveGroupFolder, type HomePaths } from '../config/home.js';
import { cleanName, personaProblem } from '../conversation/names.js';
import { localTime } from '../conversation/router.js';
import { registerGroup, unregisterGroup, type Result } from '../groups/registration.js';
import type { Store } from '../store/index.js';
import { ok, refuse } from './answer.js';
import * as defs from './definitions.js';
import { takeOutboundFile } from './outbound-media.js';
import { createToolRegistry, tool, type HostTool, type RegistryDeps } from './registry.js';

export interface ToolDeps {
  store: Store;
  paths: HomePaths;
  assistantName: string;
  timezone: string;
  /** The plugins' tools. */
  tools?: readonly HostTool[];
  approve?: RegistryDeps['approve'];
}

/** Members choose names and texts: a line break in them could forge another item. */
const oneLine = (s: string): string => s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
const answer = <T>(res: Result<T>, said: (value: T) => string) => (res.ok ? ok(said(res.value)) : refuse(res.error));
const groupsAction = (detail: string, what: string) => ({ kind: 'groups' as const, detail, what });

export function coreTools(deps: ToolDeps): HostTool[] {
  const { store } = deps;
  // Keyed by the turn's own context object, so a new turn counts from zero.
  const sentThisTurn = new WeakMap<object, number>();
  return [
    tool(defs.sendMessage, (identity, { text, sender, file }) => {
      const { chatJid } = identity;
      const reserved = { assistantName: deps.assistantName, ownerNames: store.messages.ownerNames(chatJid) };
      const why = sender && personaProblem(sender, reserved);
      if (why) return refuse(why);
      // A runaway loop must not flood the chat (and get the account banned).
      const turn = identity.turn ?? identity;
      const sent = sentThisTurn.get(turn) ?? 0;
      const cap = store.groups.get(chatJid)?.sandbox.maxMessagesPerTurn ?? 10;
      if (sent >= cap)
        return refuse(
          `Not sent: this turn already sent ${sent} message${sent === 1 ? '' : 's'}, the most this chat allows per turn (${cap}). Put the rest into one message or your final reply; the owner can raise the limit with sandbox.maxMessagesPerTurn.`,
        );
      // Checked and copied now: what is sent later is what was checked here.
      const folder = resolveGroupFolder(deps.paths, identity.groupFolder);
      const media = file ? takeOutboundFile(folder, file, path.join(deps.paths.data, 'outbox-media')) : null;
      if (media && !media.ok) return refuse(`Not sent: ${media.error}`);
      sentThisTurn.set(turn, sent + 1);
      // Always the caller's own chat: no parameter aims elsewhere.
      store.outbox.enqueue(chatJid, text, {
        persona: sender && cleanName(sender),
        kind: 'tool',
        mediaPath: media?.path,
      });
      return ok(media ? `Sent, with ${media.fileName}.` : 'Sent.');
    }),
    tool(defs.searchMessages, ({ isMain, groupFolder }, { query, limit = 20 }) => {
      const own = store.groups.list().filter((g) => g.folder === groupFolder);
      const hits = store.messages.search(query, { chatJids: isMain ? undefined : own.map((g) => g.jid), limit });
      if (!hits.length) return ok(`No messages match "${query}".`);
      const shown = hits.map(
        (h) =>
          `[${localTime(h.timestamp, deps.timezone)}] ${h.chatName ?? h.chatJid} — ${cleanName(h.senderName)}: ${h.text.length > 400 ? h.text.slice(0, 400) + '…' : h.text}`,
      );
      return ok(shown.map(oneLine).join('\n'));
    }),
    tool(defs.listGroups, () => {
      const groups = store.groups.list();
      const known = store.messages.chats().filter((c) => !groups.some((g) => g.jid === c.jid));
      const trigger = (g: (typeof groups)[number]) => (g.requiresTrigger ? g.trigger : 'none');
      return ok(
        [
          'Registered:',
          ...groups.map(
            (g) => `- ${g.name} (jid ${g.jid}, folder ${g.folder}, trigger ${trigger(g)}${g.isMain ? ', main' : ''})`,
          ),
          'Seen but not registered:',
          ...(known.length ? known.map((c) => `- ${c.name ?? '(no name)'} (jid ${c.jid}, ${c.channel})`) : ['- none']),
        ]
          .map(oneLine)
          .join('\n'),
      );
    }),
    tool(
      defs.registerGroup,
      (_, { requires_trigger, ...a }) =>
        answer(
          registerGroup(deps, { ...a, requiresTrigger: requires_trigger }),
          (g) =>
            `Registered ${g.name} (${g.jid}) in folder ${g.folder}; trigger ${g.requiresTrigger ? g.trigger : 'none (answers everything)'}.`,
        ),
      {
        approval: (_, a) =>
          groupsAction(`register_group jid=${a.jid} name=${a.name} folder=${a.folder}`, `register the chat ${a.jid}`),
      },
    ),
    tool(
      defs.unregisterGroup,
      (_, { jid }) =>
        answer(unregisterGroup(deps, jid), (g) => `Unregistered ${g.name}; its folder groups/${g.folder} is kept.`),
      { approval: (_, a) => groupsAction(`unregister_group jid=${a.jid}`, `unregister the chat ${a.jid}`) },
    ),
  ];
}

/** The core tools and the plugins' (`deps.tools`). */
export const createToolHandler = (deps: ToolDeps) =>
  createToolRegistry({ tools: [...coreTools(deps), ...(deps.tools ?? [])], approve: deps.approve });
