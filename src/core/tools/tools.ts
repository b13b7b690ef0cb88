// The host side of the nanoclaw tools. The caller's identity comes from the
// gateway endpoint the call arrived on; arguments are parsed here again with
// the schemas the runner shows the model (runner/tool-definitions.ts) and never
// name the caller. A refused call says why and changes nothing.
import type { Identity } from '../gateway/gateway.js';
import { registerGroup, unregisterGroup } from '../groups/registration.js';
import type { HomePaths } from '../config/home.js';
import { cleanName, personaProblem } from '../conversation/names.js';
import { localTime } from '../conversation/router.js';
import type { Store } from '../store/index.js';
import * as defs from '../../../runner/tool-definitions.js';
import { ok, refuse } from './answer.js';
import { createToolRegistry, tool, type HostTool, type RegistryDeps } from './registry.js';
import { takeOutboundFile } from './outbound-media.js';
import { resolveGroupFolder } from '../config/home.js';
import path from 'node:path';

export interface ToolDeps {
  store: Store;
  paths: HomePaths;
  assistantName: string;
  timezone: string;
  /** More tools beside the core ones (scheduled tasks, forgetting and consent). */
  tools?: readonly HostTool[];
  /** "Ask me first" for what a tool declares (register_group, cross-group tasks): null to go ahead, or why not. */
  approve?: RegistryDeps['approve'];
}

/** send_message calls one turn may make unless the group says otherwise (sandbox.maxMessagesPerTurn). */
export const DEFAULT_MAX_MESSAGES_PER_TURN = 10;

/** One line of output per item: chat members choose names and texts, and a line break in them could forge another item. */
const oneLine = (s: string): string => s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');

/** The core tools: messaging the chat, searching its history, and (main only) managing chats. */
export function coreTools(deps: ToolDeps): HostTool[] {
  const { store } = deps;
  // Messages sent per turn: each turn has its own context object, so a new turn counts from zero.
  const sentThisTurn = new WeakMap<object, number>();
  const capFor = (identity: Identity) =>
    store.groups.get(identity.chatJid)?.sandbox.maxMessagesPerTurn ?? DEFAULT_MAX_MESSAGES_PER_TURN;
  return [
    tool(defs.sendMessage, (identity, data) => {
      const personaWhy = data.sender
        ? personaProblem(data.sender, {
            assistantName: deps.assistantName,
            ownerNames: store.messages.ownerNames(identity.chatJid),
          })
        : null;
      if (personaWhy) return refuse(personaWhy);
      // A runaway loop must not flood the chat (and get the account banned).
      const sent = sentThisTurn.get(identity.turn ?? identity) ?? 0;
      const cap = capFor(identity);
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
      sentThisTurn.set(identity.turn ?? identity, sent + 1);
      // Always the caller's own chat: there is no parameter to aim elsewhere.
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
      const lines = [
        'Registered:',
        ...groups.map((g) =>
          oneLine(
            `- ${g.name} (jid ${g.jid}, folder ${g.folder}, trigger ${g.requiresTrigger ? g.trigger : 'none'}${g.isMain ? ', main' : ''})`,
          ),
        ),
      ];
      lines.push(
        'Seen but not registered:',
        ...(known.length
          ? known.map((c) => oneLine(`- ${c.name ?? '(no name)'} (jid ${c.jid}, ${c.channel})`))
          : ['- none']),
      );
      return ok(lines.join('\n'));
    }),
    tool(
      defs.registerGroup,
      (identity, data) => {
        const res = registerGroup(deps, {
          jid: data.jid,
          name: data.name,
          folder: data.folder,
          trigger: data.trigger,
          requiresTrigger: data.requires_trigger,
        });
        return res.ok
          ? ok(
              `Registered ${res.value.name} (${res.value.jid}) in folder ${res.value.folder}; trigger ${res.value.requiresTrigger ? res.value.trigger : 'none (answers everything)'}.`,
            )
          : refuse(res.error);
      },
      {
        approval: (_identity, a) => ({
          kind: 'groups',
          detail: `register_group jid=${a.jid} name=${a.name} folder=${a.folder}`,
          what: `register the chat ${a.jid}`,
        }),
      },
    ),
    tool(
      defs.unregisterGroup,
      (identity, data) => {
        const res = unregisterGroup(deps, data.jid);
        return res.ok
          ? ok(`Unregistered ${res.value.name}; its folder groups/${res.value.folder} is kept.`)
          : refuse(res.error);
      },
      {
        approval: (_identity, a) => ({
          kind: 'groups',
          detail: `unregister_group jid=${a.jid}`,
          what: `unregister the chat ${a.jid}`,
        }),
      },
    ),
  ];
}

/** Handles a tool call from the sandbox behind `identity`: the core tools and those given in `deps.tools`. */
export function createToolHandler(deps: ToolDeps) {
  return createToolRegistry({ tools: [...coreTools(deps), ...(deps.tools ?? [])], approve: deps.approve });
}
