// The rig most hostile cases attack: a real home on disk, a real store, the
// real tool handlers, and one real gateway endpoint per group on a unix socket
// (main, family, work), with the model proxy forwarding to the fake Anthropic
// API on 127.0.0.1. No agent runs; the attacker speaks the runner's wire protocol.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { noApprover } from '../../src/core/ask.js';
import { createGateway, type Identity } from '../../src/core/gateway/gateway.js';
import type { GatewayEndpoint } from '../../src/core/types.js';
import { ensureHome, homePaths, type HomePaths } from '../../src/core/config/home.js';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/host.js';
import { type Store } from '../../src/core/store/index.js';
import { createTaskTools } from '../../src/plugins/scheduler/tools.js';
import { createGroupTools } from '../../src/plugins/groups/tools.js';
import { createSearchTools } from '../../src/plugins/search/index.js';
import { createToolHandler } from '../../src/core/tools/tools.js';
import { createForgetTools } from '../../src/plugins/forget/tools.js';
import { createEmailTools, NOT_SET_UP } from '../../src/plugins/email/tools.js';
import { createMcpTools } from '../../src/plugins/mcp/tools.js';
import { turnContext } from '../../src/core/conversation/turn.js';
import { createForgetEngine, type ForgetEngine } from '../../src/plugins/forget/engine.js';
import type { RunnerEvent, ToolAnswer, ToolSpec } from '../../runner/protocol.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { localGroup } from '../support/groups.js';

export const TZ = 'Europe/Berlin';
/** The host's model credential in the rig: it must never show up in an answer to the sandbox. */
export const RIG_KEY = 'sk-ant-hostile-honeytoken-4e1d9b7a20';
/** A phrase only the work chat holds: other groups must never read it. */
export const WORK_SECRET = 'zebraquartz';

export type Who = 'main' | 'family' | 'work';

export const IDENTITIES: Record<Who, Identity> = {
  main: { groupFolder: 'main', chatJid: 'local:main', isMain: true, taskId: null },
  family: { groupFolder: 'family', chatJid: 'local:family', isMain: false, taskId: null },
  work: { groupFolder: 'work', chatJid: 'local:work', isMain: false, taskId: null },
};

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface Rig {
  /** Holds the home and `outside`; nothing may appear here that the attack asked for. */
  root: string;
  home: string;
  /** A folder outside the home, the target of traversal attempts. */
  outside: string;
  paths: HomePaths;
  store: Store;
  fake: FakeAnthropic;
  sockets: Record<Who, string>;
  /** What the runner shows the model for the host's tools. */
  specs: ToolSpec[];
  events: { who: Who; event: RunnerEvent }[];
  familyTask: string;
  workTask: string;
  /** The forget engine behind the forget tools. */
  forget: ForgetEngine;
  request(who: Who, method: string, pathName: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  tool(who: Who, name: string, args: unknown): Promise<ToolAnswer>;
  close(): Promise<void>;
}

const group = (folder: string, isMain = false) => localGroup(folder, isMain);

/** One HTTP request over a unix socket, with any method, path and body the attacker likes. */
export function socketRequest(
  socketPath: string,
  method: string,
  pathName: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const data =
    body === undefined
      ? undefined
      : Buffer.isBuffer(body)
        ? body
        : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        method,
        path: pathName,
        agent: false,
        headers: {
          ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    // The server may answer (413) before the whole body is written; the answer is what counts.
    req.on('error', reject);
    if (data) req.write(data, () => {});
    req.end();
  });
}

export async function startRig(): Promise<Rig> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nch-'));
  const home = path.join(root, 'home');
  const outside = path.join(root, 'outside');
  fs.mkdirSync(home);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'victim.txt'), 'do not touch');
  const paths = homePaths(home);
  ensureHome(paths, 'Andy');
  for (const f of ['family', 'work']) fs.mkdirSync(path.join(paths.groups, f), { recursive: true });
  // Every plugin's queries the rig's tools and meters use, as the host's store has them.
  const store = openStore(paths.db);
  for (const g of [group('main', true), group('family'), group('work')]) store.groups.insert(g);
  const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 9, n)).toISOString();
  store.messages.insert(
    {
      id: 'm1',
      chatJid: 'local:main',
      sender: 'me',
      senderName: 'Me',
      text: 'hello from main',
      timestamp: at(0),
      fromMe: true,
      fromAssistant: false,
    },
    'local',
  );
  store.messages.insert(
    {
      id: 'f1',
      chatJid: 'local:family',
      sender: 'mum',
      senderName: 'Mum',
      text: 'dinner at eight',
      timestamp: at(1),
      fromMe: false,
      fromAssistant: false,
    },
    'local',
  );
  store.messages.insert(
    {
      id: 'w1',
      chatJid: 'local:work',
      sender: 'boss',
      senderName: 'Boss',
      text: `the code word is ${WORK_SECRET}`,
      timestamp: at(2),
      fromMe: false,
      fromAssistant: false,
    },
    'local',
  );
  store.messages.insert(
    {
      id: 'x1',
      chatJid: 'local:stranger',
      sender: 'x',
      senderName: 'X',
      text: `stranger says ${WORK_SECRET} too`,
      timestamp: at(3),
      fromMe: false,
      fromAssistant: false,
    },
    'local',
  );

  const taskDeps = { store, timezone: TZ, onChange: () => {} };
  const tasks = createTaskTools(taskDeps);
  const forget = createForgetEngine({ store, paths, resetSession: async () => {} });
  const handle = createToolHandler({
    store,
    paths,
    assistantName: 'Andy',
    tools: [
      ...createSearchTools({ store, timezone: TZ }),
      ...createGroupTools({ store, paths, assistantName: 'Andy' }),
      ...tasks,
      ...createForgetTools({ store, paths, engine: forget }),
      // No mail account here: the email tools answer how to connect one.
      ...createEmailTools({ settings: () => ({ problem: NOT_SET_UP }), noteLogin: () => {} }),
      ...createMcpTools({ store, paths, renew: () => {} }),
    ],
  });
  const schedule = async (who: Who, args: Record<string, unknown>) => {
    const r = await handle(IDENTITIES[who], 'schedule_task', {
      schedule_type: 'cron',
      schedule_value: '0 9 * * *',
      ...args,
    });
    if (!r.ok) throw new Error(r.error);
    return /task-[0-9a-f]{8}/.exec(r.text)![0];
  };
  const familyTask = await schedule('family', { prompt: 'Plan dinner' });
  const workTask = await schedule('main', { prompt: 'Standup reminder', target_group: 'work' });

  const fake = await startFakeAnthropic(() => ({ text: 'hi', usage: { input_tokens: 3, output_tokens: 2 } }));
  const gateway = createGateway({
    upstream: fake.url,
    credential: () => ({ kind: 'api-key', value: RIG_KEY }),
    logger: silentLogger(),
    ownPorts: new Set(),
    hooks: [{ onUsage: (u) => store.usage.record(u) }],
    approver: noApprover(() => undefined),
  });
  const events: Rig['events'] = [];
  const sockDir = path.join(root, 's');
  fs.mkdirSync(sockDir, { mode: 0o700 });
  const sockets = {} as Record<Who, string>;
  const endpoints: GatewayEndpoint[] = [];
  for (const who of Object.keys(IDENTITIES) as Who[]) {
    // As the host fixes it when a turn starts: the owner's own message started the main chat's turn.
    const asked = who === 'main' ? [{ sender: 'me', senderName: 'Me', isOwner: true }] : [];
    const identity: Identity = { ...IDENTITIES[who], turn: turnContext(IDENTITIES[who], asked) };
    sockets[who] = path.join(sockDir, `${who}.sock`);
    endpoints.push(
      await gateway.openEndpoint(sockets[who], identity, {
        start: () => ({
          turn: { prompt: 'x' },
          sessionId: null,
          assistantName: 'Andy',
          isMain: identity.isMain,
          groupName: who,
          isScheduledTask: false,
          tools: [],
        }),
        next: async () => ({ close: true }),
        event: (event) => {
          events.push({ who, event });
        },
        tool: (name, args) => handle(identity, name, args),
        sessionId: () => null,
      }),
    );
  }

  return {
    root,
    home,
    outside,
    paths,
    store,
    fake,
    sockets,
    specs: handle.specs!,
    events,
    familyTask,
    workTask,
    forget,
    request: (who, method, pathName, body, headers) => socketRequest(sockets[who], method, pathName, body, headers),
    async tool(who, name, args) {
      const r = await socketRequest(sockets[who], 'POST', `/tools/${name}`, args);
      if (r.status !== 200) throw new Error(`tool call answered ${r.status}: ${r.text}`);
      return r.json as ToolAnswer;
    },
    async close() {
      for (const e of endpoints) await e.close();
      await fake.close();
      store.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Every row of every table (the search index and its bookkeeping aside), to prove a refused call changed nothing. */
export function storeDigest(store: Store): string {
  const tables = (
    store.db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'messages_fts%' AND name NOT LIKE 'fts_%' ORDER BY name`,
      )
      .all() as { name: string }[]
  ).map((t) => t.name);
  return JSON.stringify(tables.map((t) => [t, store.db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
}

/** Every path under `dir` (not following symlinks), to prove no file appeared or vanished. */
export function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r + (e.isSymbolicLink() ? '@' : e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.sort();
}

/** Strings no answer to a sandbox or a stranger may contain. */
export function leaks(text: string, secrets: string[]): string[] {
  return secrets.filter((s) => s && text.includes(s));
}
