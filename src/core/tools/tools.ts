// The host side of the nanoclaw tools. The caller is the gateway endpoint the call arrived on, never an
// argument; a refused call says why and changes nothing.
import { registerGroup, unregisterGroup } from '../groups/registration.js';
import { resolveGroupFolder, type HomePaths } from '../config/home.js';
import { cleanName, personaProblem } from '../conversation/names.js';
import { localTime } from '../conversation/router.js';
import type { Store } from '../store/index.js';
import * as defs from './definitions.js';
import { ok, refuse } from './answer.js';
import { createToolRegistry, tool, type HostTool, type RegistryDeps } from './registry.js';
import { takeOutboundFile } from './outbound-media.js';
import path from 'node:path';

export interface ToolDeps {
  store: Store;
  paths: HomePaths;
  assistantName: string;
  timezone: string;
  /** The plugins' tools. */
  tools?: readonly HostTool[];
  approve?: RegistryDeps['approve'];
}

export const DEFAULT_MAX_MESSAGES_PER_TURN = 10;

/** Members choose names and texts: a line break in them could forge another item. */
const oneLine = (s: string): string => s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');

export function coreTools(deps: ToolDeps): HostTool[] {
  const { store } = deps;
  // Keyed by the turn's own context object, so a new turn counts from zero.
  const sentThisTurn = new WeakMap<object, number>();
  return [
    tool(defs.sendMessage, (identity, data) => {
      const personaWhy =
        data.sender &&
        personaProblem(data.sender, {
          assistantName: deps.assistantName,
          ownerNames: store.messages.ownerNames(identity.chatJid),
        });
      if (personaWhy) return refuse(personaWhy);
      // A runaway loop must not flood the chat (and get the account banned).
      const turn = identity.turn ?? identity;
      const sent = sentThisTurn.get(turn) ?? 0;
      const cap = store.groups.get(identity.chatJid)?.sandbox.maxMessagesPerTurn ?? DEFAULT_MAX_MESSAGES_PER_TURN;
      if (sent >= cap) {
        return refuse(
          `Not sent: this turn already sent ${sent} message${sent === 1 ? '' : 's'}, the most this chat allows per turn (${cap}). Put the rest into one message or your final reply; the owner can raise the limit with sandbox.maxMessagesPerTurn.`,
        );
      }
      // Checked and copied now: what is sent later is what was checked here.
      const media = data.file
        ? takeOutboundFile(
            resolveGroupFolder(deps.paths, identity.groupFolder),
            data.file,
            path.join(deps.paths.data, 'outbox-media'),
          )
        : null;
      if (media && !media.ok) return refuse(`Not sent: ${media.error}`);
      sentThisTurn.set(turn, sent + 1);
      // Always the caller's own chat: no parameter aims elsewhere.
      store.outbox.enqueue(identity.chatJid, data.text, {
        persona: data.sender && cleanName(data.sender),
        kind: 'tool',
        mediaPath: media?.path,
      });
      return ok(media ? `Sent, with ${media.fileName}.` : 'Sent.');
    }),
    tool(defs.searchMessages, (identity, data) => {
      const own = store.groups
        .list()
        .filter((g) => g.folder === identity.groupFolder)
        .map((g) => g.jid);
      const hits = store.messages.search(data.query, {
        chatJids: identity.isMain ? undefined : own,
        limit: data.limit ?? 20,
      });
      if (!hits.length) return ok(`No messages match "${data.query}".`);
      return ok(
        hits
          .map((h) =>
            oneLine(
              `[${localTime(h.timestamp, deps.timezone)}] ${h.chatName ?? h.chatJid} — ${cleanName(h.senderName)}: ${h.text.length > 400 ? h.text.slice(0, 400) + '…' : h.text}`,
            ),
          )
          .join('\n'),
      );
    }),
    tool(defs.listGroups, () => {
      const groups = store.groups.list();
      const known = store.messages.chats().filter((c) => !groups.some((g) => g.jid === c.jid));
      return ok(
        [
          'Registered:',
          ...groups.map((g) =>
            oneLine(
              `- ${g.name} (jid ${g.jid}, folder ${g.folder}, trigger ${g.requiresTrigger ? g.trigger : 'none'}${g.isMain ? ', main' : ''})`,
            ),
          ),
          'Seen but not registered:',
          ...(known.length
            ? known.map((c) => oneLine(`- ${c.name ?? '(no name)'} (jid ${c.jid}, ${c.channel})`))
            : ['- none']),
        ].join('\n'),
      );
    }),
    tool(
      defs.registerGroup,
      (_, { jid, name, folder, trigger, requires_trigger }) => {
        const res = registerGroup(deps, { jid, name, folder, trigger, requiresTrigger: requires_trigger });
        if (!res.ok) return refuse(res.error);
        const g = res.value;
        return ok(
          `Registered ${g.name} (${g.jid}) in folder ${g.folder}; trigger ${g.requiresTrigger ? g.trigger : 'none (answers everything)'}.`,
        );
      },
      {
        approval: (_, a) => ({
          kind: 'groups',
          detail: `register_group jid=${a.jid} name=${a.name} folder=${a.folder}`,
          what: `register the chat ${a.jid}`,
        }),
      },
    ),
    tool(
      defs.unregisterGroup,
      (_, data) => {
        const res = unregisterGroup(deps, data.jid);
        return res.ok
          ? ok(`Unregistered ${res.value.name}; its folder groups/${res.value.folder} is kept.`)
          : refuse(res.error);
      },
      {
        approval: (_, a) => ({
          kind: 'groups',
          detail: `unregister_group jid=${a.jid}`,
          what: `unregister the chat ${a.jid}`,
        }),
      },
    ),
  ];
}

/** The core tools and the plugins' (`deps.tools`). */
export function createToolHandler(deps: ToolDeps) {
  return createToolRegistry({ tools: [...coreTools(deps), ...(deps.tools ?? [])], approve: deps.approve });
}
