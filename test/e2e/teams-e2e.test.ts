// Agent teams, end to end: the scripted model has the real SDK start a
// sub-agent (the group's own .claude/agents/researcher.md) in a real bwrap
// sandbox. The sub-agent's requests reach the fake model with its own system
// prompt; while it works, /api/status names it; its send_message with sender
// "Researcher" reaches the chat under that name.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isToolResultTurn, lastUserText, type RecordedRequest } from '../support/fake-anthropic.js';
import { startTestEnv, until, type TestEnv } from '../support/harness.js';

const PERSONA = 'You are the RESEARCHER-7Q persona: find facts, report them under your own name.';

let env: TestEnv;
let releaseResearcher: () => void = () => {};
const researcherHeld = new Promise<void>((r) => (releaseResearcher = r));
let researcherAsked = false;

const systemText = (req: RecordedRequest): string => JSON.stringify(req.body?.system ?? '');
const toolNames = (req: RecordedRequest): string[] => (req.body?.tools ?? []).map((t: any) => String(t.name));

async function script(req: RecordedRequest) {
  if (!toolNames(req).length) return undefined;
  const text = lastUserText(req);
  if (systemText(req).includes('RESEARCHER-7Q')) {
    if (isToolResultTurn(req)) return { text: 'Research done: three sources.' };
    researcherAsked = true;
    // Held until the test has seen the sub-agent at work in /api/status.
    await researcherHeld;
    return {
      toolUse: { name: 'mcp__nanoclaw__send_message', input: { text: 'Found three sources.', sender: 'Researcher' } },
    };
  }
  if (isToolResultTurn(req)) return { text: 'The team is finished.' };
  if (!text.includes('TEAM')) return { text: 'OK' };
  // The SDK's sub-agent tool (named Agent in current CLIs, Task in older ones).
  const agentTool = toolNames(req).find((n) => n === 'Agent' || n === 'Task');
  if (!agentTool) return { text: `no sub-agent tool among ${toolNames(req).join(',')}` };
  return {
    toolUse: {
      name: agentTool,
      input: {
        description: 'Research the question',
        prompt: 'Find sources.',
        subagent_type: 'researcher',
        run_in_background: false,
      },
    },
  };
}

beforeAll(async () => {
  env = await startTestEnv({ script, env: { IDLE_TIMEOUT: '5000' } });
  const agents = path.join(env.host.paths.groups, 'main', '.claude', 'agents');
  fs.mkdirSync(agents, { recursive: true });
  fs.writeFileSync(
    path.join(agents, 'researcher.md'),
    `---\nname: researcher\ndescription: Finds sources for a question.\n---\n\n${PERSONA}\n`,
  );
});
afterAll(async () => {
  releaseResearcher();
  await env?.close();
});

test('a sub-agent works with its own system prompt, shows in /api/status, and speaks as "Researcher"', async () => {
  await env.send('local:main', 'TEAM: put a researcher on this');
  await until(() => researcherAsked, 90_000, "the researcher's first model request");
  // The model saw a request whose system prompt is the sub-agent's own.
  const sub = env.fake.turnRequests().find((r) => systemText(r).includes('RESEARCHER-7Q'))!;
  expect(systemText(sub)).toContain(PERSONA);

  let seen: any = null;
  await until(
    async () => {
      const status = await (await env.api('/api/status')).json();
      seen = status.teams?.['local:main'];
      return !!seen?.some((s: any) => s.type === 'researcher');
    },
    30_000,
    'the researcher in /api/status',
  );
  releaseResearcher();

  const messages = await env.untilChat(
    'local:main',
    (ms) => ms.some((m) => m.fromAssistant && m.text === 'The team is finished.'),
    90_000,
    'the final answer',
  );
  const said = messages.find((m) => m.fromAssistant && m.text === 'Found three sources.');
  expect(said?.senderName).toBe('Researcher');
  // Once it stopped, the dashboard no longer lists it.
  await until(
    async () => {
      const status = await (await env.api('/api/status')).json();
      return !status.teams?.['local:main']?.length;
    },
    30_000,
    'the researcher gone from /api/status',
  );
}, 180_000);
