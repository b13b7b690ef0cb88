// Adding and removing a chat's MCP servers, the same for the API, the CLI and an approved request_mcp_server:
// a package is installed into the chat's own folder, where only its sandbox runs it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { resolveGroupFolder, type HomePaths } from '../../core/config/home.js';
import { registerSecret } from '../../core/secrets.js';
import type { Store } from '../../core/store/index.js';
import type { RegisteredGroup } from '../../core/types.js';

const run = promisify(execFile);

/** Where a chat's packages go: inside its folder, so its sandbox sees them at /workspace/group/.mcp. */
export const mcpDir = (paths: HomePaths, folder: string) => path.join(resolveGroupFolder(paths, folder), '.mcp');

// The chat's folder is the sandbox's to write: a link it left there must not lead the host elsewhere.
const isLink = (p: string) => !!fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink();

/** A note's first 2 KB, never through a link; null when it is not a plain file. */
function readNote(file: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return null;
    const buf = Buffer.alloc(2048);
    return buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

const word = z
  .string()
  .min(1)
  .max(500)
  .refine((t) => !/[\0\r\n]/.test(t), 'must be on one line');
export const serverInput = z
  .strictObject({
    // The SDK names its tools mcp__<name>__<tool>; the gateway's routes take lowercase letters and _ only.
    name: z
      .string()
      .regex(/^[a-z][a-z_]{0,31}$/, 'must be 1-32 lowercase letters or _, starting with a letter')
      .refine((n) => n !== 'nanoclaw', "is the host's own server; pick another name"),
    package: z
      .string()
      .min(1)
      .max(500)
      .regex(/^[^-\s][^\s]*$/, 'must be an npm package spec such as @scope/name@1.2.3 (no spaces, not an option)')
      .optional(),
    command: word.optional(),
    args: z.array(word).max(50).default([]),
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .max(2000)
      .optional(),
    /** A header the host adds to every call to the URL, "Name: value" (an API key). */
    header: z
      .string()
      .max(4000)
      .regex(/^[A-Za-z0-9-]{1,100}: *[^\r\n\0]+$/, 'must be "Name: value" on one line')
      .optional(),
    /** Sent as "Authorization: Bearer <token>". */
    bearer: z
      .string()
      .min(1)
      .max(4000)
      .regex(/^[^\s]+$/, 'must be one word')
      .optional(),
  })
  .refine((s) => !s.command !== !s.url, {
    message: 'give a command (a stdio server) or a url (a remote one), not both',
  })
  .refine((s) => !s.package || s.command, { message: 'a package goes with a command' })
  .refine((s) => s.url || (!s.header && !s.bearer), { message: 'a header or bearer token goes with a url' })
  .refine((s) => !(s.header && s.bearer), { message: 'give a header or a bearer token, not both' });
export type ServerInput = z.output<typeof serverInput>;

/** Exactly what runs or is reached, as the owner is shown it (never a credential's value). */
export const whatRuns = (s: {
  package?: string | null;
  command?: string;
  args?: string[];
  url?: string | null;
  credential?: string | null;
}) =>
  s.url
    ? `reach ${s.url}${s.credential ? ` (the host adds its ${s.credential} header)` : ''}`
    : `${s.package ? `npm install ${s.package}, then run: ` : 'run: '}${[s.command, ...(s.args ?? [])].join(' ')}`;

/** The header the host adds to a remote server's calls: its name, and the value that stays on the host. */
function credentialOf(input: ServerInput): [string, string] | null {
  if (input.bearer) return ['Authorization', `Bearer ${input.bearer}`];
  const m = input.header && /^([^:]+): *(.*)$/.exec(input.header);
  return m ? [m[1], m[2]] : null;
}

export interface ServerDeps {
  store: Store;
  paths: HomePaths;
  /** The chat's live agent finishes its turn: the next one starts a sandbox with the new list. */
  renew(jid: string): void;
}

export async function addServer(deps: ServerDeps, group: RegisteredGroup, input: ServerInput) {
  if (input.package) {
    const dir = mcpDir(deps.paths, group.folder);
    if (isLink(dir) || isLink(path.join(dir, 'node_modules')))
      throw new Error(`groups/${group.folder}/.mcp is a link; remove it (its packages are reinstalled) and try again.`);
    fs.mkdirSync(dir, { recursive: true });
    // --ignore-scripts: a package's own code runs only in the sandbox, never on the host at install time.
    // --install-links: a local folder is copied in, not linked to a path the sandbox cannot see.
    const flags = ['--no-audit', '--no-fund', '--ignore-scripts', '--install-links'];
    await run('npm', ['install', '--prefix', dir, ...flags, input.package], {
      timeout: 10 * 60_000,
    }).catch((err: { stderr?: string; message: string }) => {
      const why = (err.stderr || err.message).trim().split('\n').slice(-3).join(' ').slice(0, 400);
      throw new Error(`npm could not install ${input.package} into groups/${group.folder}/.mcp: ${why}`);
    });
  }
  const credential = credentialOf(input);
  if (credential) registerSecret('MCP_SERVER_CREDENTIAL', credential[1]);
  deps.store.mcp.put(
    {
      groupFolder: group.folder,
      name: input.name,
      package: input.package ?? null,
      command: input.command ?? '',
      args: input.args,
      url: input.url ?? null,
      credential: credential?.[0] ?? null,
    },
    credential?.[1] ?? null,
  );
  deps.renew(group.jid);
  return deps.store.mcp.list(group.folder).find((s) => s.name === input.name)!;
}

export function removeServer(deps: ServerDeps, group: RegisteredGroup, name: string): boolean {
  const removed = deps.store.mcp.remove(group.folder, name);
  if (removed) deps.renew(group.jid);
  return removed;
}

/** The notes the sandbox left about each start: a failure is kept (for status) and said once in the chat. */
export function readStarts(deps: ServerDeps & { tell(jid: string, text: string): void }, group: RegisteredGroup) {
  const dir = path.join(mcpDir(deps.paths, group.folder), 'started');
  if (isLink(path.dirname(dir)) || isLink(dir) || !fs.existsSync(dir)) return;
  for (const file of fs.readdirSync(dir)) {
    const name = file.replace(/\.json$/, '');
    let said: { ok?: unknown; why?: unknown } = {};
    try {
      said = JSON.parse(readNote(path.join(dir, file)) ?? '{}');
    } catch {
      /* a half-written note reads as a failure without a reason */
    }
    fs.rmSync(path.join(dir, file), { force: true, recursive: true });
    if (!deps.store.mcp.list(group.folder).some((s) => s.name === name)) continue;
    const why = said.ok === true ? null : String(said.why ?? 'no reason given').slice(0, 300);
    deps.store.mcp.setFailure(group.folder, name, why);
    if (why)
      deps.tell(
        group.jid,
        `The MCP server "${name}" did not start: ${why}. Its tools are missing here; fix or remove it with "nanoclaw groups mcp ${group.folder} remove ${name}".`,
      );
  }
}
