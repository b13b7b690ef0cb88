// `nanoclaw chat [--group <folder>]`: a terminal chat with a local group,
// through the same HTTP API the dashboard uses. Piped input works too:
// `echo "hello" | nanoclaw chat` prints the answer and exits.
import readline from 'node:readline';
import type { Config } from '../config/config.js';
import type { ApiMessage, GroupsResponse } from '../web/api/types.js';
import { apiClient, readBody, refusal } from './api-client.js';
import { readSse } from './sse.js';

/** Terminal control sequences in a reply could rewrite the screen; show text only. */
export function printable(text: string): string {
  return String(text).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function chatCommand(args: string[], config: Config): Promise<number> {
  const api = apiClient(config);
  const folder = option(args, '--group') ?? 'main';
  const groupsRes = await api.request('/api/groups');
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
  const interactive = process.stdin.isTTY === true;
  const out = process.stdout;
  if (interactive) {
    out.write(
      `Chatting with ${config.assistantName} in "${group.name}" (${group.jid}).${group.requiresTrigger ? ` Start a message with ${group.trigger} to address ${config.assistantName}.` : ''} Ctrl-D to leave.\n`,
    );
  }

  const ac = new AbortController();
  let repliesSinceSend = 0;
  let lastReplyAt = 0;
  const events = await api.request(`/api/events?chat=${encodeURIComponent(group.jid)}`, { signal: ac.signal });
  if (!events.ok || !events.body) throw new Error(`Could not open the event stream (${events.status}).`);
  const reading = (async () => {
    try {
      for await (const ev of readSse(events.body!)) {
        if (ev.event !== 'message') continue;
        const m = JSON.parse(ev.data) as ApiMessage;
        if (!m.fromAssistant) continue;
        repliesSinceSend++;
        lastReplyAt = Date.now();
        out.write(`${interactive ? '\n' : ''}${printable(m.senderName)}: ${printable(m.text)}\n${interactive ? '> ' : ''}`);
      }
    } catch {
      /* aborted on exit */
    }
  })();

  const rl = readline.createInterface({ input: process.stdin, terminal: interactive });
  if (interactive) {
    rl.setPrompt('> ');
    rl.prompt();
  }
  let sent = 0;
  for await (const line of rl) {
    const text = line.trim();
    if (text) {
      const res = await api.request(`/api/chats/${encodeURIComponent(group.jid)}/messages`, {
        method: 'POST',
        json: { sender: 'terminal', senderName: 'You', text },
      });
      if (res.status !== 202) process.stderr.write(`Not sent: ${await refusal(res)}\n`);
      else {
        sent++;
        repliesSinceSend = 0;
      }
    }
    if (interactive) rl.prompt();
  }
  if (!interactive && sent > 0) {
    // Piped input: wait for the answer, then for a short quiet spell.
    const deadline = Date.now() + Math.max(config.agentTimeoutMs, 60_000);
    while (Date.now() < deadline && (repliesSinceSend === 0 || Date.now() - lastReplyAt < 1500))
      await new Promise((r) => setTimeout(r, 100));
  }
  ac.abort();
  await reading;
  return 0;
}
