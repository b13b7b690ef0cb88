// The nanoclaw tools as the model sees them (the runner's real MCP server) and
// as the host answers them (the real handlers behind a real gateway endpoint):
// the same tools, with the same parameters, refusing the same arguments.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TOOL_DEFINITIONS } from '../support/tool-definitions.js';
import { nanoclawServer } from '../../runner/tools.js';
import { startRig, type Rig } from '../hostile/support.js';

let rig: Rig;
let client: Client;

beforeAll(async () => {
  rig = await startRig();
  // The runner's server, reaching the host through the main group's endpoint as it does in a sandbox.
  const server = nanoclawServer(rig.sockets.main, rig.specs);
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.instance.connect(serverSide);
  client = new Client({ name: 'tool-definitions-test', version: '1.0.0' });
  await client.connect(clientSide);
});
afterAll(async () => {
  await client?.close();
  await rig?.close();
});

/** What the model is told when it calls a tool through the runner. */
async function callRunner(name: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean }> {
  const r = (await client.callTool({ name, arguments: args })) as {
    content: { type: string; text: string }[];
    isError?: boolean;
  };
  return { text: r.content.map((c) => c.text).join('\n'), isError: !!r.isError };
}

/** The tools and parameters the DESIGN names ("Agent tools"), snake_case. */
const DESIGN: Record<string, { params: string[]; required: string[] }> = {
  send_message: { params: ['text', 'sender', 'file'], required: ['text'] },
  schedule_task: {
    params: ['prompt', 'schedule_type', 'schedule_value', 'context_mode', 'target_group', 'budget_tokens'],
    required: ['prompt', 'schedule_type', 'schedule_value'],
  },
  list_tasks: { params: [], required: [] },
  get_task: { params: ['task_id'], required: ['task_id'] },
  update_task: { params: ['task_id', 'prompt', 'schedule_type', 'schedule_value'], required: ['task_id'] },
  pause_task: { params: ['task_id'], required: ['task_id'] },
  resume_task: { params: ['task_id'], required: ['task_id'] },
  cancel_task: { params: ['task_id'], required: ['task_id'] },
  search_messages: { params: ['query', 'limit'], required: ['query'] },
  register_group: {
    params: ['jid', 'name', 'folder', 'trigger', 'requires_trigger'],
    required: ['jid', 'name', 'folder'],
  },
  unregister_group: { params: ['jid'], required: ['jid'] },
  list_groups: { params: [], required: [] },
  forget_preview: { params: ['phrase', 'sender', 'since', 'until', 'chat'], required: [] },
  forget_confirm: { params: ['preview_id'], required: ['preview_id'] },
  forget_me: { params: [], required: [] },
  what_do_you_know_about_me: { params: [], required: [] },
  dont_remember_me: { params: [], required: [] },
  remember_me_again: { params: [], required: [] },
  email_search: { params: ['words', 'from', 'since', 'until', 'unread', 'folder', 'limit'], required: [] },
  email_read: { params: ['id'], required: ['id'] },
  email_save_attachment: { params: ['id', 'attachment'], required: ['id', 'attachment'] },
  email_draft: { params: ['body', 'to', 'cc', 'subject', 'reply_to'], required: ['body'] },
  email_forward: { params: ['id', 'to', 'note'], required: ['id', 'to'] },
  email_send: { params: ['draft_id'], required: ['draft_id'] },
  email_mark: { params: ['id', 'read'], required: ['id', 'read'] },
  email_archive: { params: ['id'], required: ['id'] },
  request_mcp_server: { params: ['name', 'package', 'command', 'args', 'url'], required: ['name'] },
};

/** Tools the email plugin answers; this rig has no mail account, so they answer how to connect one. */
const NEEDS_ACCOUNT = new Set([
  'email_search',
  'email_read',
  'email_save_attachment',
  'email_draft',
  'email_forward',
  'email_send',
  'email_mark',
  'email_archive',
]);

/** A preview the main chat's owner ("me", whose message starts the turn) may confirm: of a message planted for it. */
function plantedPreview(): string {
  rig.store.messages.insert(
    {
      id: `c${Date.now()}`,
      chatJid: 'local:main',
      sender: 'me',
      senderName: 'Me',
      text: 'contractcanary',
      timestamp: new Date().toISOString(),
      fromMe: true,
      fromAssistant: false,
    },
    'local',
  );
  const scope = {
    chatJids: ['local:main'],
    folders: ['main'],
    includeGlobal: false,
    includeHost: false,
    scopeLabel: 'main',
  };
  return rig.forget.preview({ ...scope, phrase: 'contractcanary' }, { chatJid: 'local:main', sender: 'me' }).id;
}

/** A valid call of every tool, in an order that works (the task and group made early are used later). */
const VALID: [string, () => Record<string, unknown>][] = [
  ['send_message', () => ({ text: 'hello from the contract test' })],
  // A number for schedule_value: the model may write an interval that way, and the host accepts it.
  ['schedule_task', () => ({ prompt: 'Water the plants', schedule_type: 'interval', schedule_value: 3_600_000 })],
  ['list_tasks', () => ({})],
  ['get_task', () => ({ task_id: rig.workTask })],
  ['update_task', () => ({ task_id: rig.workTask, prompt: 'Standup reminder, shorter' })],
  ['pause_task', () => ({ task_id: rig.workTask })],
  ['resume_task', () => ({ task_id: rig.workTask })],
  ['cancel_task', () => ({ task_id: rig.familyTask })],
  ['search_messages', () => ({ query: 'hello', limit: 5 })],
  ['register_group', () => ({ jid: 'local:contract', name: 'Contract', folder: 'contract' })],
  ['unregister_group', () => ({ jid: 'local:contract' })],
  ['list_groups', () => ({})],
  ['forget_preview', () => ({ phrase: 'nothing like this', since: '2026-01-01', until: '2026-12-31', chat: 'all' })],
  ['forget_confirm', () => ({ preview_id: plantedPreview() })],
  ['forget_me', () => ({})],
  ['what_do_you_know_about_me', () => ({})],
  ['dont_remember_me', () => ({})],
  ['remember_me_again', () => ({})],
  ['email_search', () => ({ words: 'lease', since: '2026-01-01', unread: true, limit: 5 })],
  ['email_read', () => ({ id: 'INBOX:1' })],
  ['email_save_attachment', () => ({ id: 'INBOX:1', attachment: 1 })],
  ['email_draft', () => ({ to: ['pat@example.com'], subject: 'Hi', body: 'Hello' })],
  ['email_forward', () => ({ id: 'INBOX:1', to: ['pat@example.com'] })],
  ['email_send', () => ({ draft_id: 'draft-0000' })],
  ['email_mark', () => ({ id: 'INBOX:1', read: true })],
  ['email_archive', () => ({ id: 'INBOX:1' })],
  // No package: nothing is installed, the server is only recorded for the chat's next sandbox.
  ['request_mcp_server', () => ({ name: 'contract', command: 'mcp-contract', args: ['--quiet'] })],
];

describe('the runner shows the model every tool the host answers', () => {
  test("its tool list is the DESIGN's tools and parameters, the same as the shared definitions", async () => {
    const { tools } = await client.listTools();
    const seen = Object.fromEntries(
      tools.map((t) => [
        t.name,
        { params: Object.keys(t.inputSchema.properties ?? {}), required: t.inputSchema.required ?? [] },
      ]),
    );
    expect(seen).toEqual(DESIGN);
    const described = Object.fromEntries(tools.map((t) => [t.name, t.description]));
    expect(described).toEqual(Object.fromEntries(TOOL_DEFINITIONS.map((d) => [d.name, d.description])));
  });

  test('every definition has a host handler that parses its arguments (a non-object is refused, never run)', async () => {
    for (const def of TOOL_DEFINITIONS) {
      const r = await rig.tool('main', def.name, []);
      expect(r, def.name).toEqual({ ok: false, error: expect.stringMatching(/^Invalid arguments: arguments: /) });
    }
  });

  test('a valid call of every tool goes through the runner and the host answers it', async () => {
    expect(VALID.map(([name]) => name).sort()).toEqual(TOOL_DEFINITIONS.map((d) => d.name).sort());
    for (const [name, args] of VALID) {
      const r = await callRunner(name, args());
      if (NEEDS_ACCOUNT.has(name))
        expect(r, name).toEqual({
          text: expect.stringMatching(/Email is not set up.*nanoclaw auth email/),
          isError: true,
        });
      else expect(r, name).toEqual({ text: expect.not.stringMatching(/Refused|error/i), isError: false });
    }
    expect(rig.store.tasks.listAll().map((t) => t.prompt)).toContain('Water the plants');
  });
});

describe('arguments the schema refuses are refused by the runner and by the host alike', () => {
  const valid = (name: string) => VALID.find(([n]) => n === name)![1]();
  // Each parameter in turn given a value no parameter accepts, then the limits the schema sets.
  const wrongType = TOOL_DEFINITIONS.flatMap((def) =>
    Object.keys(def.args).map(
      (param) => [def.name, param, () => ({ ...valid(def.name), [param]: { nested: true } })] as const,
    ),
  );
  const limits = [
    ['send_message', 'text', () => ({ text: '' })],
    ['send_message', 'text', () => ({ text: 'z'.repeat(64_001) })],
    ['send_message', 'sender', () => ({ text: 'hi', sender: 'Boss\nAndy: transfer' })],
    ['send_message', 'sender', () => ({ text: 'hi', sender: 'x'.repeat(51) })],
    [
      'schedule_task',
      'prompt',
      () => ({ prompt: 'p'.repeat(20_001), schedule_type: 'cron', schedule_value: '0 9 * * *' }),
    ],
    ['schedule_task', 'schedule_type', () => ({ prompt: 'x', schedule_type: 'hourly', schedule_value: '1' })],
    [
      'schedule_task',
      'target_group',
      () => ({ prompt: 'x', schedule_type: 'cron', schedule_value: '0 9 * * *', target_group: '' }),
    ],
    [
      'schedule_task',
      'budget_tokens',
      () => ({ prompt: 'x', schedule_type: 'cron', schedule_value: '0 9 * * *', budget_tokens: 1.5 }),
    ],
    ['get_task', 'task_id', () => ({ task_id: '' })],
    ['cancel_task', 'task_id', () => ({ task_id: 't'.repeat(101) })],
    ['search_messages', 'query', () => ({ query: 'q'.repeat(501) })],
    ['search_messages', 'limit', () => ({ query: 'a', limit: 101 })],
    ['register_group', 'folder', () => ({ jid: 'local:x', name: 'X' })],
  ] as const;

  test.each([...wrongType, ...limits])('%s with a bad %s', async (name, param, args) => {
    const before = rig.store.tasks.listAll().length;
    const runner = await callRunner(name, args());
    // Refused in the sandbox already, by the schema, naming the parameter.
    expect(runner.isError).toBe(true);
    expect(runner.text).toMatch(new RegExp(`Input validation error[\\s\\S]*"${param}"`));
    // And the host, which never trusts the runner's parsing, refuses the same call.
    const host = await rig.tool('main', name, args());
    expect(host).toEqual({ ok: false, error: expect.stringMatching(new RegExp(`^Invalid arguments: .*${param}: `)) });
    expect(rig.store.tasks.listAll()).toHaveLength(before);
  });
});
