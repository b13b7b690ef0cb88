// The host side of the core's nanoclaw tools. The caller is the gateway endpoint the call arrived on, never an
// argument; a refused call says why and changes nothing.
import { resolveGroupFolder, type HomePaths } from '../config/home.js';
import { cleanName, personaProblem } from '../conversation/names.js';
import type { Store } from '../store/index.js';
import { ok, refuse } from './answer.js';
import * as defs from './definitions.js';
import { createToolRegistry, tool, type HostTool, type RegistryDeps } from './registry.js';

/** send_message's `file` in the group folder `groupDir`, checked and copied now to a folder no sandbox sees. */
export type TakeOutbound = (
  groupDir: string,
  file: string,
) => { ok: true; path: string; fileName: string } | { ok: false; error: string };

export interface ToolDeps {
  store: Store;
  paths: HomePaths;
  assistantName: string;
  /** The plugins' tools. */
  tools?: readonly HostTool[];
  approve?: RegistryDeps['approve'];
  /** The media plugin's; without it send_message sends no files. */
  media?: { takeOutbound: TakeOutbound };
}

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
      const media = file
        ? deps.media?.takeOutbound(resolveGroupFolder(deps.paths, identity.groupFolder), file)
        : undefined;
      if (media && !media.ok) return refuse(`Not sent: ${media.error}`);
      sentThisTurn.set(turn, sent + 1);
      // Always the caller's own chat: no parameter aims elsewhere.
      store.outbox.enqueue(chatJid, text, {
        persona: sender && cleanName(sender),
        kind: 'tool',
        mediaPath: media?.path,
      });
      if (file && !media) return ok('Sent without the file: files cannot be sent on this install.');
      return ok(media ? `Sent, with ${media.fileName}.` : 'Sent.');
    }),
  ];
}

/** The core tools and the plugins' (`deps.tools`). */
export const createToolHandler = (deps: ToolDeps) =>
  createToolRegistry({ tools: [...coreTools(deps), ...(deps.tools ?? [])], approve: deps.approve });
