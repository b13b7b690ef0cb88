// The runner: the only NanoClaw code inside a sandbox. It asks the gateway for
// its turn, runs the Claude Agent SDK in the group's folder (resuming the
// group's session), reports each result, and asks for the next turn until the
// host says to close. It holds no credential: the model is reached through the
// gateway, which adds it on the host side.
import fs from 'node:fs';
import { query, type SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';
import { callGateway, startForwarder } from './gateway-client.js';
import { GATEWAY_SOCKET_INSIDE, type NextAnswer, type RunnerEvent, type StartInfo, type Turn } from './protocol.js';
import { nanoclawServer } from './tools.js';

const socket = process.env.NANOCLAW_GATEWAY_SOCKET || GATEWAY_SOCKET_INSIDE;
const GROUP_DIR = '/workspace/group';
const GLOBAL_MEMORY = '/workspace/global/CLAUDE.md';

const send = (event: RunnerEvent) => callGateway(socket, 'POST', '/runner/event', event);

/** A prompt stream the SDK reads from; we push one turn at a time. */
function turnQueue() {
  const items: SDKUserMessage[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  return {
    push(m: SDKUserMessage) { items.push(m); wake?.(); },
    close() { closed = true; wake?.(); },
    async *[Symbol.asyncIterator](): AsyncGenerator<SDKUserMessage> {
      while (true) {
        if (items.length) { yield items.shift()!; continue; }
        if (closed) return;
        await new Promise<void>((r) => { wake = r; });
        wake = null;
      }
    },
  };
}

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function toUserMessage(turn: Turn): SDKUserMessage {
  const content: any[] = [];
  for (const img of turn.images ?? []) {
    if (!IMAGE_TYPES.has(img.mimeType)) continue;
    try {
      const data = fs.readFileSync(img.path).toString('base64');
      content.push({ type: 'image', source: { type: 'base64', media_type: img.mimeType, data } });
    } catch { /* the transcript still names the file */ }
  }
  content.push({ type: 'text', text: turn.prompt });
  return { type: 'user', message: { role: 'user', content }, parent_tool_use_id: null } as SDKUserMessage;
}

async function nextTurn(): Promise<Turn | null> {
  for (;;) {
    const answer = await callGateway<NextAnswer>(socket, 'GET', '/runner/next');
    if ('turn' in answer) return answer.turn;
    if ('close' in answer) return null;
  }
}

async function main(): Promise<void> {
  const start = await callGateway<StartInfo>(socket, 'GET', '/runner/start');
  const forwarder = await startForwarder(socket);
  let globalMemory = '';
  try { globalMemory = fs.readFileSync(GLOBAL_MEMORY, 'utf8'); } catch { /* none yet */ }

  const prompts = turnQueue();
  prompts.push(toUserMessage(start.turn));

  const append = [
    `You are ${start.assistantName}, answering in the chat "${start.groupName}".`,
    start.isScheduledTask ? 'This turn is a scheduled task, not a live message: send to the chat only if there is something worth saying.' : '',
    globalMemory ? `\n# Shared memory (/workspace/global/CLAUDE.md)\n${globalMemory}` : '',
  ].filter(Boolean).join('\n');

  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${forwarder.port}`,
    // A placeholder: the gateway replaces it with the real credential on the host.
    ANTHROPIC_API_KEY: 'placeholder-the-gateway-adds-the-real-key',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_EXPERIMENTAL_AGENT_TEAMS: '1',
  };

  let sessionId: string | null = start.sessionId;
  const q = query({
    prompt: prompts,
    options: {
      cwd: GROUP_DIR,
      resume: start.sessionId ?? undefined,
      systemPrompt: { type: 'preset', preset: 'claude_code', append },
      settingSources: ['project'],
      mcpServers: { nanoclaw: nanoclawServer(socket) },
      permissionMode: 'bypassPermissions',
      allowDangerouslySkipPermissions: true,
      env,
      stderr: (line: string) => process.stderr.write(line),
    },
  });

  try {
    for await (const msg of q) {
      if (msg.type === 'system' && msg.subtype === 'init') {
        sessionId = msg.session_id;
        await send({ type: 'session', sessionId });
      } else if (msg.type === 'assistant') {
        for (const block of (msg.message?.content ?? []) as any[]) {
          if (block?.type === 'tool_use') await send({ type: 'activity', tool: String(block.name) }).catch(() => {});
        }
      } else if (msg.type === 'result') {
        const text = msg.subtype === 'success' ? msg.result : '';
        await send({ type: 'result', text: text ?? '', sessionId: msg.session_id ?? sessionId, isError: msg.is_error });
        const turn = await nextTurn();
        if (turn) prompts.push(toUserMessage(turn));
        else { prompts.close(); break; }
      }
    }
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    await send({ type: 'error', message, sessionNotFound: /no conversation found|session.*not found/i.test(message) }).catch(() => {});
    process.exitCode = 1;
  } finally {
    forwarder.close();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  async (err) => {
    process.stderr.write(`runner failed: ${(err as Error).stack ?? err}\n`);
    await send({ type: 'error', message: String((err as Error).message ?? err) }).catch(() => {});
    process.exit(1);
  },
);
