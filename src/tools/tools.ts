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
import type { ToolAnswer } from '../../runner/protocol.js';
import * as defs from '../../runner/tool-definitions.js';
import { ok, refuse } from './answer.js';
import { takeOutboundFile } from './outbound-media.js';
import { resolveGroupFolder } from '../config/home.js';
import path from 'node:path';

export interface TaskTools {
  handle(identity: Identity, name: string, args: unknown): ToolAnswer | null;
}

export interface ToolDeps {
  store: Store;
  paths: HomePaths;
  assistantName: string;
  timezone: string;
  /** Scheduled-task tools, when the scheduler is present. */
  tasks?: TaskTools;
  /** Forgetting and consent tools. */
  forget?: TaskTools;
  /** "Ask me first" for host tools (register_group, cross-group tasks): null to go ahead, or why not. */
  approve?(identity: Identity, name: string, args: unknown): Promise<string | null>;
}

/** send_message calls one turn may make unless the group says otherwise (sandbox.maxMessagesPerTurn). */
export const DEFAULT_MAX_MESSAGES_PER_TURN = 10;

/** One line of output per item: chat members choose names and texts, and a line break in them could forge another item. */
const oneLine = (s: string): string => s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');

export function createToolHandler(deps: ToolDeps) {
  // Messages sent in the current turn, per live agent (its identity object).
  const sentThisTurn = new WeakMap<Identity, number>();
  const capFor = (identity: Identity) =>
    deps.store.groups.get(identity.chatJid)?.sandbox.maxMessagesPerTurn ?? DEFAULT_MAX_MESSAGES_PER_TURN;

  async function handleTool(identity: Identity, name: string, args: unknown): Promise<ToolAnswer> {
    // Who started this turn, as it was when the call arrived (an approval wait does not change it).
    const called: Identity = { ...identity, turn: identity.turn };
    const held = await deps.approve?.(called, name, args);
    if (held) return refuse(held);
    const { store } = deps;
    switch (name) {
      case defs.sendMessage.name: {
        const p = defs.parseArgs(defs.sendMessage, args);
        if ('error' in p) return refuse(p.error);
        const personaWhy = p.data.sender
          ? personaProblem(p.data.sender, { assistantName: deps.assistantName, ownerNames: store.messages.ownerNames(identity.chatJid) })
          : null;
        if (personaWhy) return refuse(personaWhy);
        // A runaway loop must not flood the chat (and get the account banned).
        const sent = sentThisTurn.get(identity) ?? 0;
        const cap = capFor(identity);
        if (sent >= cap) {
          return refuse(
            `Not sent: this turn already sent ${sent} message${sent === 1 ? '' : 's'}, the most this chat allows per turn (${cap}). Put the rest into one message or your final reply; the owner can raise the limit with sandbox.maxMessagesPerTurn.`,
          );
        }
        // Checked and copied now: what is sent later is what was checked here.
        const media = p.data.file
          ? takeOutboundFile(resolveGroupFolder(deps.paths, identity.groupFolder), p.data.file, path.join(deps.paths.data, 'outbox-media'))
          : null;
        if (media && !media.ok) return refuse(`Not sent: ${media.error}`);
        sentThisTurn.set(identity, sent + 1);
        // Always the caller's own chat: there is no parameter to aim elsewhere.
        store.outbox.enqueue(identity.chatJid, p.data.text, {
          persona: p.data.sender && cleanName(p.data.sender),
          kind: 'tool',
          mediaPath: media?.path,
        });
        return ok(media ? `Sent, with ${media.fileName}.` : 'Sent.');
      }
      case defs.searchMessages.name: {
        const p = defs.parseArgs(defs.searchMessages, args);
        if ('error' in p) return refuse(p.error);
        const own = store.groups
          .list()
          .filter((g) => g.folder === identity.groupFolder)
          .map((g) => g.jid);
        const hits = store.messages.search(p.data.query, { chatJids: identity.isMain ? undefined : own, limit: p.data.limit ?? 20 });
        if (!hits.length) return ok(`No messages match "${p.data.query}".`);
        return ok(
          hits
            .map((h) =>
              oneLine(
                `[${localTime(h.timestamp, deps.timezone)}] ${h.chatName ?? h.chatJid} — ${cleanName(h.senderName)}: ${h.text.length > 400 ? h.text.slice(0, 400) + '…' : h.text}`,
              ),
            )
            .join('\n'),
        );
      }
      case defs.listGroups.name: {
        if (!identity.isMain) return refuse('Only the main chat can list groups.');
        const p = defs.parseArgs(defs.listGroups, args);
        if ('error' in p) return refuse(p.error);
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
          ...(known.length ? known.map((c) => oneLine(`- ${c.name ?? '(no name)'} (jid ${c.jid}, ${c.channel})`)) : ['- none']),
        );
        return ok(lines.join('\n'));
      }
      case defs.registerGroup.name: {
        if (!identity.isMain) return refuse('Only the main chat can register groups.');
        const p = defs.parseArgs(defs.registerGroup, args);
        if ('error' in p) return refuse(p.error);
        const res = registerGroup(deps, {
          jid: p.data.jid,
          name: p.data.name,
          folder: p.data.folder,
          trigger: p.data.trigger,
          requiresTrigger: p.data.requires_trigger,
        });
        return res.ok
          ? ok(
              `Registered ${res.value.name} (${res.value.jid}) in folder ${res.value.folder}; trigger ${res.value.requiresTrigger ? res.value.trigger : 'none (answers everything)'}.`,
            )
          : refuse(res.error);
      }
      case defs.unregisterGroup.name: {
        if (!identity.isMain) return refuse('Only the main chat can unregister groups.');
        const p = defs.parseArgs(defs.unregisterGroup, args);
        if ('error' in p) return refuse(p.error);
        const res = unregisterGroup(deps, p.data.jid);
        return res.ok ? ok(`Unregistered ${res.value.name}; its folder groups/${res.value.folder} is kept.`) : refuse(res.error);
      }
      default: {
        const answer = deps.tasks?.handle(called, name, args) ?? deps.forget?.handle(called, name, args);
        if (answer) return answer;
        return refuse(`Unknown tool "${String(name).slice(0, 40)}".`);
      }
    }
  }
  /** A new turn of the agent behind `identity` begins: its message count starts again. */
  handleTool.beginTurn = (identity: Identity): void => {
    sentThisTurn.delete(identity);
  };
  return handleTool;
}
