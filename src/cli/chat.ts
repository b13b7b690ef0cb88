// `nanoclaw chat [--group <folder>]`: a terminal chat with a local group,
// through the same HTTP API the dashboard uses. At a terminal it shows the last
// messages, then every message of the chat as it arrives, whoever wrote it.
// Piped input works too: `echo "hello" | nanoclaw chat` prints the answer and exits.
import readline from 'node:readline';
import { OWNER_SENDERS } from '../core/channels/local/local.js';
import type { Config } from '../core/config/config.js';
import { cleanName, personaProblem } from '../core/conversation/names.js';
import { isTriggered } from '../core/conversation/router.js';
import type { RegisteredGroup } from '../core/types.js';
import type { TypingEvent } from '../core/api/events.js';
import type { ApiMessage, MessagesResponse } from '../core/api/types.js';
import type { GroupsResponse } from '../plugins/groups/api.js';
import { apiClient, readBody, refusal, type ApiClient } from './api-client.js';
import { readSse } from './sse.js';
import { localTime, paint, type Paint } from './term.js';

/** Exit code of a piped chat whose messages the group keeps without answering. */
export const EXIT_NOT_ADDRESSED = 3;

/** How many earlier messages the terminal chat shows when it opens. */
const HISTORY = 20;

/** The sender the terminal posts as: one of the core's owner senders. */
const TERMINAL = 'terminal';

/** Terminal control sequences in a reply could rewrite the screen; show text only. */
export function printable(text: string): string {
  return String(text).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Why a message waits unanswered, or null when the assistant will answer it (the router's own rule). */
export function notAddressed(group: RegisteredGroup, text: string, assistantName: string): string | null {
  if (isTriggered(group, { text, fromAssistant: false })) return null;
  return `${group.name} answers only messages that start with ${group.trigger}; yours was kept for later (${assistantName} reads it with the next one that does).`;
}

function notRunning(api: ApiClient): string {
  return `NanoClaw is not running: nothing answers at ${api.base}.\nStart it with "npm start" in another terminal, then run this chat command again.\n`;
}

/**
 * What the terminal shows: lines above an always-visible prompt, and a
 * "typing…" line just above the prompt while the agent works. Every output
 * goes through here so the prompt and what is being typed are redrawn after it.
 */
interface Screen {
  line(text: string): void;
  /** Replaces the line readline echoed on Enter with the chat form of it. */
  sent(typed: string, text: string | null): void;
  typing(on: boolean): void;
}

function ttyScreen(out: NodeJS.WriteStream, rl: readline.Interface, typingText: string): Screen {
  let typingShown = false;
  let typingOn = false;
  let closed = false;
  rl.on('close', () => {
    closed = true;
  });
  const redraw = (text: string | null) => {
    // Back to the start of the prompt (what is typed may wrap) and the typing line above it, then clear below.
    const up = (closed ? 0 : rl.getCursorPos().rows) + (typingShown ? 1 : 0);
    out.write((up ? `\x1b[${up}A` : '') + '\r\x1b[J');
    typingShown = false;
    if (text !== null) out.write(text + '\n');
    if (typingOn) {
      out.write(typingText + '\n');
      typingShown = true;
    }
    if (closed) return;
    // The cursor is where the prompt starts; readline would otherwise move up by the rows it last drew.
    (rl as unknown as { prevRows: number }).prevRows = 0;
    rl.prompt(true);
  };
  return {
    line: (text) => redraw(text),
    sent(typed, text) {
      // Enter left "> typed" on screen (maybe wrapped over several rows) and the cursor below it.
      const rows = Math.max(1, Math.ceil((2 + typed.length) / Math.max(1, out.columns || 80)));
      out.write(`\x1b[${rows}A`);
      for (let i = 1; i < rows; i++) out.write('\x1b[2K\x1b[1B');
      if (rows > 1) out.write(`\x1b[${rows - 1}A`);
      redraw(text);
    },
    typing(on) {
      if (on === typingOn) return;
      typingOn = on;
      redraw(null);
    },
  };
}

function plainScreen(out: NodeJS.WriteStream): Screen {
  return { line: (text) => out.write(text + '\n'), sent: () => {}, typing: () => {} };
}

function chatLine(p: Paint, name: string, iso: string, text: string): string {
  return `${p.dim(localTime(iso))} ${p.bold(printable(name))}: ${printable(text)}`;
}

/** Who wrote a message, as the terminal shows it; names are cleaned so none can move the cursor or fake a line. */
function author(m: ApiMessage, assistantName: string): string {
  if (m.fromAssistant) return cleanName(m.senderName) || assistantName;
  if (OWNER_SENDERS.includes(m.sender)) return 'You';
  const name = cleanName(m.senderName) || cleanName(m.sender) || 'someone';
  // A member may not pass for you or the assistant: a name that looks like either is marked.
  return personaProblem(name, { assistantName, ownerNames: ['You'] }) ? `${name} (member)` : name;
}

export async function chatCommand(args: string[], config: Config): Promise<number> {
  const api = apiClient(config);
  const folder = option(args, '--group') ?? 'main';
  let groupsRes: Response;
  try {
    groupsRes = await api.request('/api/groups');
  } catch {
    process.stderr.write(notRunning(api));
    return 1;
  }
  if (groupsRes.status === 401) throw new Error('The API token was refused: is data/api-token from this home?');
  const { groups } = await readBody<GroupsResponse>(groupsRes);
  const group = groups.find((g) => g.folder === folder);
  if (!group) {
    process.stderr.write(
      `No group with folder "${folder}". Registered: ${groups.map((g) => g.folder).join(', ')}.\nAdd a local one with: nanoclaw groups add local:${folder} "${folder}" ${folder}\n`,
    );
    return 2;
  }
  if (!group.jid.startsWith('local:')) {
    process.stderr.write(
      `Group "${folder}" is a ${group.jid.split(':')[0]} chat; the terminal chat talks to local groups (local:<name>) only.\n`,
    );
    return 2;
  }
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const out = process.stdout;
  const p = paint(out);
  const name = config.assistantName;
  const jid = encodeURIComponent(group.jid);

  // The stream opens before the history is read, so nothing falls between them; seqs seen twice are shown once.
  const ac = new AbortController();
  const shown = new Set<number>();
  let events: Response;
  try {
    events = await api.request(`/api/events?chat=${jid}`, { signal: ac.signal });
    // Piped output stays the answers alone, for scripts: no history there.
    if (interactive) {
      const { messages = [] } = await readBody<Partial<MessagesResponse>>(
        await api.request(`/api/chats/${jid}/messages?limit=${HISTORY}`),
      );
      for (const m of messages) {
        shown.add(m.seq);
        out.write(chatLine(p, author(m, name), m.timestamp, m.text) + '\n');
      }
    }
  } catch {
    process.stderr.write(notRunning(api));
    return 1;
  }
  if (!events.ok || !events.body) throw new Error(`Could not open the event stream (${events.status}).`);
  if (interactive) {
    out.write(
      `Chatting with ${name} in "${group.name}" (${group.jid}).${group.requiresTrigger && !group.isMain ? ` Start a message with ${group.trigger} to address ${name}.` : ''} Ctrl-D to leave.\n`,
    );
  }

  const rl = readline.createInterface({
    input: process.stdin,
    output: interactive ? out : undefined,
    terminal: interactive,
  });
  rl.setPrompt('> ');
  const screen = interactive ? ttyScreen(out, rl, p.dim(`${name} is typing…`)) : plainScreen(out);

  let repliesSinceSend = 0;
  let lastReplyAt = 0;
  let hostGone = false;
  // Lines typed here are on screen already: their copy from the stream is skipped (it may come before the POST's answer).
  const typedHere: string[] = [];
  const reading = (async () => {
    try {
      for await (const ev of readSse(events.body!)) {
        if (ev.event === 'typing') screen.typing((JSON.parse(ev.data) as TypingEvent).typing);
        if (ev.event !== 'message') continue;
        const m = JSON.parse(ev.data) as ApiMessage;
        if (shown.has(m.seq)) continue;
        shown.add(m.seq);
        if (m.fromAssistant) {
          repliesSinceSend++;
          lastReplyAt = Date.now();
          screen.typing(false);
        }
        if (!interactive) {
          // Piped output stays "Name: text", one reply a line, for scripts.
          if (m.fromAssistant) screen.line(`${printable(m.senderName)}: ${printable(m.text)}`);
          continue;
        }
        const mine = m.sender === TERMINAL && !m.fromAssistant ? typedHere.indexOf(m.text) : -1;
        if (mine >= 0) typedHere.splice(mine, 1);
        else screen.line(chatLine(p, author(m, name), m.timestamp, m.text));
      }
      if (!ac.signal.aborted) hostGone = true;
    } catch {
      if (!ac.signal.aborted) hostGone = true;
    }
    // The host went away under us: say so and leave rather than type into the void.
    if (hostGone) {
      screen.typing(false);
      process.stderr.write(
        `\nNanoClaw stopped (the event stream from ${api.base} closed). Start it again with "npm start".\n`,
      );
      rl.close();
    }
  })();

  if (interactive) rl.prompt();
  let answered = 0;
  let kept = 0;
  for await (const line of rl) {
    const text = line.trim();
    if (text) {
      screen.sent(line, chatLine(p, 'You', new Date().toISOString(), text));
      typedHere.push(text);
      const res = await api
        .request(`/api/chats/${jid}/messages`, {
          method: 'POST',
          json: { sender: TERMINAL, senderName: 'You', text },
        })
        .catch(() => null);
      if (res?.status !== 202 && typedHere.includes(text)) typedHere.splice(typedHere.indexOf(text), 1);
      if (!res) hostGone = true;
      else if (res.status !== 202) screen.line(p.bad(`Not sent: ${await refusal(res)}`));
      else {
        const why = notAddressed(group, text, name);
        if (why) {
          kept++;
          if (interactive) screen.line(p.dim(why));
          else process.stderr.write(why + '\n');
        } else {
          answered++;
          repliesSinceSend = 0;
        }
      }
    } else screen.sent(line, null);
    if (hostGone) break;
  }
  if (!interactive && answered > 0 && !hostGone) {
    // Piped input: wait for the answer, then for a short quiet spell.
    const deadline = Date.now() + Math.max(config.agentTimeoutMs, 60_000);
    while (!hostGone && Date.now() < deadline && (repliesSinceSend === 0 || Date.now() - lastReplyAt < 1500))
      await new Promise((r) => setTimeout(r, 100));
  }
  ac.abort();
  await reading;
  if (hostGone) return 1;
  return !interactive && answered === 0 && kept > 0 ? EXIT_NOT_ADDRESSED : 0;
}
