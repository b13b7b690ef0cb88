// `nanoclaw groups list|add|remove|set|approvals|network|mcp`, through the running host's API.
import path from 'node:path';
import { APPROVAL_KINDS, APPROVAL_MODES, defaultMode } from '../core/ask.js';
import type { Config } from '../core/config/config.js';
import type { ApprovalKind, ApprovalMode, ApprovalSettings } from '../core/types.js';
import type { GroupResponse, RemovedResponse } from '../core/api/types.js';
import type { GroupsResponse } from '../plugins/groups/api.js';
import { effortProblem, modelProblem } from '../plugins/models/settings.js';
import { DEFAULT_MINUTES, minutesProblem, quietProblem } from '../plugins/heartbeat/heartbeat.js';
import type { McpServerResponse, McpServersResponse } from '../plugins/mcp/api.js';
import { whatRuns } from '../plugins/mcp/servers.js';
import { registerSecret } from '../core/secrets.js';
import { apiClient, readBody, refusal, type ApiClient } from './api-client.js';
import { readSecret } from './term.js';

export async function groupsCommand(args: string[], config: Config): Promise<number> {
  const api = apiClient(config);
  const [sub, ...rest] = args;
  if (!sub || sub === 'list') {
    const res = await api.request('/api/groups');
    const { groups, unregistered } = await readBody<GroupsResponse>(res);
    for (const g of groups)
      process.stdout.write(
        `${g.isMain ? '*' : ' '} ${g.folder.padEnd(16)} ${g.jid.padEnd(32)} ${g.name}  ${g.requiresTrigger ? `(trigger ${g.trigger})` : '(answers everything)'}\n`,
      );
    if (unregistered.length) {
      process.stdout.write('\nSeen but not registered:\n');
      for (const c of unregistered) process.stdout.write(`  ${c.jid.padEnd(32)} ${c.name ?? ''}\n`);
    }
    return 0;
  }
  if (sub === 'add') {
    const positional = rest.filter((a, i) => !a.startsWith('--') && rest[i - 1] !== '--trigger');
    const [jid, name, folder] = positional;
    if (!jid || !name || !folder) {
      process.stderr.write('Usage: nanoclaw groups add <jid> <name> <folder> [--trigger @X] [--no-trigger]\n');
      return 2;
    }
    const ti = rest.indexOf('--trigger');
    const res = await api.request('/api/groups', {
      method: 'POST',
      json: {
        jid,
        name,
        folder,
        trigger: ti >= 0 ? rest[ti + 1] : undefined,
        requiresTrigger: !rest.includes('--no-trigger'),
      },
    });
    if (!res.ok) {
      process.stderr.write(`Not added: ${await refusal(res)}\n`);
      return 1;
    }
    const body = await readBody<GroupResponse>(res);
    process.stdout.write(`Added ${body.group.name} (${body.group.jid}) in groups/${body.group.folder}\n`);
    return 0;
  }
  if (sub === 'remove') {
    if (!rest[0]) {
      process.stderr.write('Usage: nanoclaw groups remove <folder or jid>   (both are in "nanoclaw groups list")\n');
      return 2;
    }
    const jid = await resolveGroup(api, rest[0]);
    if (!jid) {
      process.stderr.write(
        `Not removed: no registered group has the folder or jid "${rest[0]}"; see "nanoclaw groups list".\n`,
      );
      return 1;
    }
    const res = await api.request(`/api/groups/${encodeURIComponent(jid)}`, { method: 'DELETE' });
    if (!res.ok) {
      process.stderr.write(`Not removed: ${await refusal(res)}\n`);
      return 1;
    }
    const body = await readBody<RemovedResponse>(res);
    process.stdout.write(`Removed ${body.removed}\n`);
    return 0;
  }
  if (sub === 'set') return setSettings(api, rest);
  if (sub === 'approvals') return approvalsSetting(api, rest);
  if (sub === 'network') return networkSetting(api, rest);
  if (sub === 'mcp') return mcpSetting(api, rest);
  process.stderr.write(`Unknown groups subcommand "${sub}": use list, add, remove, set, approvals, network or mcp.\n`);
  return 2;
}

/** The jid of the group named by its folder (as `add` and `chat --group` take it) or by its jid. */
async function resolveGroup(api: ApiClient, name: string): Promise<string | null> {
  const res = await api.request('/api/groups');
  const { groups } = await readBody<GroupsResponse>(res);
  return (groups.find((g) => g.jid === name) ?? groups.find((g) => g.folder === name))?.jid ?? null;
}

/** The registered group a settings command names (folder or jid), or the exit code after saying what is wrong. */
async function namedGroup(api: ApiClient, name: string | undefined, usage: string) {
  if (!name) {
    process.stderr.write(usage + '\n');
    return 2;
  }
  const { groups } = await readBody<GroupsResponse>(await api.request('/api/groups'));
  const group = groups.find((g) => g.jid === name) ?? groups.find((g) => g.folder === name);
  if (!group) {
    process.stderr.write(`No registered group has the folder or jid "${name}"; see "nanoclaw groups list".\n`);
    return 1;
  }
  return group;
}

const APPROVALS_USAGE = `Usage: nanoclaw groups approvals <folder or jid> [<kind>=allow|ask|deny ...] [--bash "rm,git push"]
  kinds: ${APPROVAL_KINDS.join(', ')}`;

/** `groups approvals <group> [kind=mode ...] [--bash "a,b"]`: shows, or changes, what the group's agent must ask about. */
async function approvalsSetting(api: ApiClient, rest: string[]): Promise<number> {
  const [name, ...changes] = rest;
  const group = await namedGroup(api, name, APPROVALS_USAGE);
  if (typeof group === 'number') return group;
  const current: ApprovalSettings = group.sandbox.approvals ?? {};
  const policy = { ...current.policy };
  let bashPatterns = current.bashPatterns;
  for (let i = 0; i < changes.length; i++) {
    const arg = changes[i];
    if (arg === '--bash') {
      bashPatterns = (changes[++i] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      continue;
    }
    const [kind, mode] = arg.split('=');
    if (!APPROVAL_KINDS.includes(kind as ApprovalKind) || !APPROVAL_MODES.includes(mode as ApprovalMode)) {
      process.stderr.write(`Not changed: "${arg}" is not <kind>=allow|ask|deny.\n${APPROVALS_USAGE}\n`);
      return 2;
    }
    policy[kind as ApprovalKind] = mode as ApprovalMode;
  }
  let shown = current;
  if (changes.length) {
    const res = await api.request(`/api/groups/${encodeURIComponent(group.jid)}`, {
      method: 'PATCH',
      json: { sandbox: { approvals: { ...current, policy, bashPatterns } } },
    });
    if (!res.ok) {
      process.stderr.write(`Not changed: ${await refusal(res)}\n`);
      return 1;
    }
    shown = (await readBody<GroupResponse>(res)).group.sandbox.approvals ?? {};
  }
  for (const kind of APPROVAL_KINDS)
    process.stdout.write(`${kind.padEnd(12)} ${shown.policy?.[kind] ?? `${defaultMode(kind)} (default)`}\n`);
  process.stdout.write(`bash patterns: ${shown.bashPatterns?.length ? shown.bashPatterns.join(', ') : 'none'}\n`);
  for (const r of shown.allow ?? []) process.stdout.write(`always allowed (${r.kind}): ${r.detail}\n`);
  return 0;
}

const NETWORK_USAGE = `Usage: nanoclaw groups network <folder or jid> [default|none|allowlist|open] [--allow "a,b"]
    [--remove "a,b"]
  --allow adds destinations (example.com, *.example.com:8443, 192.168.1.20:8123); this list is the only way to
  allow an address on your own machine or network: an answer to a request never does.`;

const listArg = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);

/** `groups network <group> [policy] [--allow a,b] [--remove a,b]`: shows, or changes, where its sandbox may connect. */
async function networkSetting(api: ApiClient, rest: string[]): Promise<number> {
  const [name, ...changes] = rest;
  const group = await namedGroup(api, name, NETWORK_USAGE);
  if (typeof group === 'number') return group;
  let egress: string | null | undefined;
  let list = [...(group.sandbox.egressAllowlist ?? [])];
  for (let i = 0; i < changes.length; i++) {
    const arg = changes[i];
    if (arg === '--allow') list = [...new Set([...list, ...listArg(changes[++i])])];
    else if (arg === '--remove') {
      const gone = new Set(listArg(changes[++i]).map((d) => d.toLowerCase()));
      list = list.filter((d) => !gone.has(d.toLowerCase()));
    } else if (['default', 'none', 'allowlist', 'open'].includes(arg)) egress = arg === 'default' ? null : arg;
    else {
      process.stderr.write(`Not changed: "${arg}" is not a network policy or option.\n${NETWORK_USAGE}\n`);
      return 2;
    }
  }
  let shown = group.sandbox;
  if (changes.length) {
    const sandbox = { ...(egress !== undefined ? { egress } : {}), egressAllowlist: list.length ? list : null };
    const url = `/api/groups/${encodeURIComponent(group.jid)}`;
    const res = await api.request(url, { method: 'PATCH', json: { sandbox } });
    if (!res.ok) {
      process.stderr.write(`Not changed: ${await refusal(res)}\n`);
      return 1;
    }
    shown = (await readBody<GroupResponse>(res)).group.sandbox;
  }
  process.stdout.write(`network: ${shown.egress ?? 'default (public websites on ports 80 and 443)'}\n`);
  const listed = shown.egressAllowlist?.length ? shown.egressAllowlist.join(', ') : 'none';
  process.stdout.write(`allowed destinations: ${listed}\n`);
  const answered = (shown.approvals?.allow ?? []).filter((r) => r.kind === 'network').map((r) => r.detail);
  if (answered.length)
    process.stdout.write(`always allowed by your answers (public addresses only): ${answered.join(', ')}\n`);
  return 0;
}

const SET_USAGE = `Usage: nanoclaw groups set <folder or jid> [model=<id>] [effort=low|medium|high]
    [heartbeat=on|off|<minutes>] [quiet=HH:MM-HH:MM|off]
  model: a model id or alias the model API serves (claude-sonnet-4-5, opus); effort: how hard it thinks.
  heartbeat: every ${DEFAULT_MINUTES} minutes (on) or <minutes>, the agent reads HEARTBEAT.md in the chat's folder and
    writes only when something is worth saying; quiet: hours without beats, in your time zone (22:00-07:00).
  <name>=default goes back to the default (model, effort: NANOCLAW_MODEL, NANOCLAW_EFFORT in .env, else the SDK's).`;

/** Each setting `groups set` takes: its name in the sandbox settings, and the value it stores (or why not). */
const SETTABLE: Record<string, [string, (value: string) => string | number | { problem: string }]> = {
  model: ['model', (v) => (modelProblem(v) ? { problem: modelProblem(v)! } : v)],
  effort: ['effort', (v) => (effortProblem(v) ? { problem: effortProblem(v)! } : v)],
  heartbeat: [
    'heartbeatMinutes',
    (v) => {
      const minutes = v === 'on' ? DEFAULT_MINUTES : Number(v);
      const problem = minutesProblem(minutes) && `heartbeat must be on, off or minutes from 5 to 1440, not "${v}".`;
      return problem ? { problem } : minutes;
    },
  ],
  quiet: [
    'heartbeatQuiet',
    (v) => (quietProblem(v) ? { problem: quietProblem(v)!.replace('heartbeatQuiet', 'quiet') } : v),
  ],
};

/** `groups set <group> [name=value ...]`: shows, or changes, the chat's model, effort and heartbeat. */
async function setSettings(api: ApiClient, rest: string[]): Promise<number> {
  const [name, ...changes] = rest;
  const sandbox: Record<string, string | number | null> = {};
  for (const arg of changes) {
    const at = arg.indexOf('=');
    const [key, value] = [arg.slice(0, at), arg.slice(at + 1).trim()];
    const known = at > 0 ? SETTABLE[key] : undefined;
    const unset = value === 'default' || (key === 'heartbeat' && value === 'off');
    const stored = !known ? { problem: `"${arg}" is not <setting>=<value>.` } : unset ? null : known[1](value);
    if (stored !== null && typeof stored === 'object') {
      process.stderr.write(`Not changed: ${stored.problem}\n${SET_USAGE}\n`);
      return 2;
    }
    sandbox[known![0]] = stored;
  }
  const group = await namedGroup(api, name, SET_USAGE);
  if (typeof group === 'number') return group;
  let shown = group.sandbox;
  if (changes.length) {
    const res = await api.request(`/api/groups/${encodeURIComponent(group.jid)}`, {
      method: 'PATCH',
      json: { sandbox },
    });
    if (!res.ok) {
      process.stderr.write(`Not changed: ${await refusal(res)}\n`);
      return 1;
    }
    shown = (await readBody<GroupResponse>(res)).group.sandbox;
  }
  const beat = shown.heartbeatMinutes
    ? `every ${shown.heartbeatMinutes} minutes, quiet ${shown.heartbeatQuiet ?? '22:00-07:00'}`
    : 'off';
  process.stdout.write(
    `model: ${shown.model ?? "default (the host's)"}\neffort: ${shown.effort ?? "default (the host's)"}\n` +
      `heartbeat: ${beat}\n`,
  );
  if (changes.length) process.stdout.write('The next agent run in this chat uses them.\n');
  return 0;
}

const MCP_USAGE = `Usage: nanoclaw groups mcp <folder or jid> list
       nanoclaw groups mcp <folder or jid> add <name> [--package <npm package>] -- <command> [args...]
       nanoclaw groups mcp <folder or jid> add <name> --url <https://…> [--bearer | --header <Name>]
       nanoclaw groups mcp <folder or jid> remove <name>
  --bearer asks for the token the host sends as "Authorization: Bearer <token>"; --header X-Api-Key asks for that
  header's value. Type it when asked (it is not shown), or pipe it in: printf %s "$TOKEN" | nanoclaw groups mcp …`;

/** The value after `flag` among `args` (before a "--"), or undefined. */
const option = (args: string[], flag: string) => {
  const i = args.indexOf(flag);
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  return i >= 0 && i < end ? args[i + 1] : undefined;
};

/** A word as the shell takes it back: quoted unless it is plainly one word. */
const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`);

type Asked = { bearer: true } | { bearer: false; header: string };

/**
 * The credential `mcp add` is to read (--bearer, or --header <Name>), from the options before "--" (after it, they
 * are the stdio command's). A value given with the flag is refused: on the command line every user sees it in `ps`.
 */
function credentialAsked(
  options: string[],
  command: (options: string[]) => string,
): { asked: Asked | null } | { problem: string } {
  const end = options.includes('--') ? options.indexOf('--') : options.length;
  const kept: string[] = [];
  let asked: Asked | null = null;
  let given: string | null = null;
  for (let i = 0; i < end; i++) {
    const [flag, inline] = /^--(bearer|header)=/.test(options[i])
      ? [options[i].slice(0, 8), options[i].slice(9)]
      : [options[i], undefined];
    if (flag !== '--bearer' && flag !== '--header') {
      kept.push(options[i]);
      continue;
    }
    if (asked) return { problem: 'Give --bearer or --header <Name>, not both.' };
    const next = i + 1 < end && !options[i + 1].startsWith('--') ? options[i + 1] : undefined;
    const word = inline ?? next;
    if (word !== undefined && inline === undefined) i++;
    if (flag === '--bearer') {
      asked = { bearer: true };
      if (word !== undefined) given = word;
    } else {
      if (!word) return { problem: '--header needs the name of the header, such as --header X-Api-Key.' };
      // "Name: value" (or "Name value"): the old form, with the value on the command line.
      const split = /^([^:\s]*)\s*:?\s*(.*)$/s.exec(word)!;
      asked = { bearer: false, header: split[1] };
      if (split[2]) given = split[2];
    }
    kept.push(flag, ...(asked.bearer ? [] : [asked.header]));
  }
  if (given !== null) {
    // Never printed here; hidden all the same, should any later line quote it.
    registerSecret('SECRET', given);
    const what = asked!.bearer ? 'token' : `${asked!.header} value`;
    const fixed = command([...kept, ...options.slice(end)]);
    return {
      problem:
        `Not added: the ${what} was given on the command line, where every user of this machine sees it in "ps", ` +
        `and it stays in your shell's history. Run this and type it when asked (it is not shown):\n  ${fixed}\n` +
        `or pipe it in:\n  printf %s "$TOKEN" | ${fixed}\n` +
        `It is in your shell's history already: delete it there, and replace it if others use this machine.`,
    };
  }
  // The name is not quoted back: what was typed there may be the value.
  if (asked && !asked.bearer && !/^[A-Za-z0-9-]{1,100}$/.test(asked.header))
    return {
      problem:
        'Not added: a header name has only letters, digits and dashes (such as X-Api-Key); its value is asked for.',
    };
  return { asked };
}

/** `groups mcp <group> list|add|remove`: the MCP servers the group's agent gets from its next message on. */
async function mcpSetting(api: ApiClient, rest: string[]): Promise<number> {
  const [name, sub = 'list', server, ...more] = rest;
  const credential =
    sub === 'add'
      ? credentialAsked(more, (options) =>
          ['nanoclaw', 'groups', 'mcp', ...rest.slice(0, 3), ...options].map(shellWord).join(' '),
        )
      : { asked: null };
  if ('problem' in credential) {
    process.stderr.write(`${credential.problem}\n`);
    return 2;
  }
  const { asked } = credential;
  const group = await namedGroup(api, name, MCP_USAGE);
  if (typeof group === 'number') return group;
  const url = `/api/groups/${encodeURIComponent(group.jid)}/mcp`;
  if (sub === 'list') {
    const { servers } = await readBody<McpServersResponse>(await api.request(url));
    if (!servers.length) process.stdout.write(`${group.folder} has no MCP servers.\n`);
    for (const s of servers)
      process.stdout.write(
        `${s.name.padEnd(16)} ${whatRuns(s)}${s.failure ? `  (did not start: ${s.failure})` : ''}\n`,
      );
    return 0;
  }
  const [command, ...args] = more.includes('--') ? more.slice(more.indexOf('--') + 1) : [];
  const remote = option(more, '--url');
  if (sub === 'add' && server && (command || remote)) {
    if (asked && !remote) {
      process.stderr.write('Not added: --bearer and --header go with --url (a remote server).\n');
      return 2;
    }
    const secret = asked
      ? await readSecret(`${asked.bearer ? 'Bearer token' : `${asked.header} value`} for "${server}" (not shown): `)
      : undefined;
    if (asked && !secret) {
      process.stderr.write('Nothing entered; nothing added.\n');
      return 2;
    }
    const res = await api.request(url, {
      method: 'POST',
      json: {
        name: server,
        // A folder is the caller's, not the host's working directory.
        package: /^\.{0,2}\//.test(option(more, '--package') ?? '')
          ? path.resolve(option(more, '--package')!)
          : option(more, '--package'),
        command,
        args: command ? args : undefined,
        url: remote,
        bearer: asked?.bearer ? secret : undefined,
        header: asked && !asked.bearer ? `${asked.header}: ${secret}` : undefined,
      },
    });
    if (!res.ok) {
      process.stderr.write(`Not added: ${await refusal(res)}\n`);
      return 1;
    }
    const { server: s } = await readBody<McpServerResponse>(res);
    process.stdout.write(
      `Added the MCP server "${s.name}" to ${group.folder} (${whatRuns(s)}); its tools appear from the next message on.\n`,
    );
    return 0;
  }
  if (sub === 'remove' && server) {
    const res = await api.request(`${url}/${encodeURIComponent(server)}`, { method: 'DELETE' });
    if (!res.ok) {
      process.stderr.write(`Not removed: ${await refusal(res)}\n`);
      return 1;
    }
    process.stdout.write(`Removed the MCP server "${server}" from ${group.folder}.\n`);
    return 0;
  }
  process.stderr.write(MCP_USAGE + '\n');
  return 2;
}
