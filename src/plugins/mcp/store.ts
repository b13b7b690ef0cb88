// The MCP servers each chat was given: a stdio command run in its sandbox, or a remote URL reached through the host,
// whose credential (secret) never leaves this table but for the call the host makes.
import type { DB } from '../../core/store/db.js';

export interface McpServer {
  groupFolder: string;
  /** Its tools reach the agent as mcp__<name>__<tool>. */
  name: string;
  /** The npm package installed into the chat's groups/<folder>/.mcp, if any. */
  package: string | null;
  /** A stdio server's command ('' for a remote one). */
  command: string;
  args: string[];
  /** A remote server's URL, reached through the gateway, or null. */
  url: string | null;
  /** The header the host adds to each call to it (Authorization), never its value. */
  credential: string | null;
  /** Why it did not start the last time, or null. */
  failure: string | null;
  addedAt: string;
}

type Row = Omit<McpServer, 'args'> & { args: string };
const COLUMNS = `group_folder AS groupFolder, name, package, command, args, url, header AS credential, failure,
  added_at AS addedAt`;
const fromRow = (r: Row): McpServer => ({ ...r, args: JSON.parse(r.args) as string[] });

function mcpQueries(db: DB) {
  const list = db.prepare(`SELECT ${COLUMNS} FROM mcp_servers WHERE group_folder = ? ORDER BY name`);
  const failed = db.prepare(`SELECT ${COLUMNS} FROM mcp_servers WHERE failure IS NOT NULL ORDER BY group_folder, name`);
  const put = db.prepare(
    `INSERT INTO mcp_servers (group_folder, name, package, command, args, url, header, secret, added_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (group_folder, name) DO UPDATE SET package = excluded.package, command = excluded.command,
       args = excluded.args, url = excluded.url, header = excluded.header, secret = excluded.secret,
       added_at = excluded.added_at, failure = NULL`,
  );
  const remote = db.prepare(
    'SELECT url, header, secret FROM mcp_servers WHERE group_folder = ? AND name = ? AND url IS NOT NULL',
  );
  const secrets = db.prepare('SELECT secret FROM mcp_servers WHERE secret IS NOT NULL');
  const remove = db.prepare('DELETE FROM mcp_servers WHERE group_folder = ? AND name = ?');
  const setFailure = db.prepare('UPDATE mcp_servers SET failure = ? WHERE group_folder = ? AND name = ?');
  return {
    list: (folder: string) => (list.all(folder) as Row[]).map(fromRow),
    failed: () => (failed.all() as Row[]).map(fromRow),
    put: (s: Omit<McpServer, 'failure' | 'addedAt'>, secret: string | null) =>
      void put.run(
        s.groupFolder,
        s.name,
        s.package,
        s.command,
        JSON.stringify(s.args),
        s.url,
        s.credential,
        // As bytes: the store redacts every bound text, and this one must be kept as given.
        secret === null ? null : Buffer.from(secret, 'utf8'),
        new Date().toISOString(),
      ),
    /** A remote server with its credential: only for the gateway's call to it, on the host. */
    remote: (folder: string, name: string) => {
      const r = remote.get(folder, name) as { url: string; header: string | null; secret: Buffer | null } | undefined;
      return r && { ...r, secret: r.secret?.toString('utf8') ?? null };
    },
    /** Every stored credential, for the redaction of logs and answers. */
    secrets: () => (secrets.all() as { secret: Buffer }[]).map((r) => r.secret.toString('utf8')),
    remove: (folder: string, name: string) => remove.run(folder, name).changes > 0,
    /** Null when it started. */
    setFailure: (folder: string, name: string, why: string | null) => void setFailure.run(why, folder, name),
  };
}

declare module '../../core/store/index.js' {
  interface StoreExtensions {
    mcp: ReturnType<typeof mcpQueries>;
  }
}
export const mcpStore = (db: DB) => ({ mcp: mcpQueries(db) });

export const migrations: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS mcp_servers (
    group_folder TEXT NOT NULL,
    name TEXT NOT NULL,
    package TEXT,
    command TEXT NOT NULL,
    args TEXT NOT NULL DEFAULT '[]',
    url TEXT,
    header TEXT,
    secret BLOB,
    failure TEXT,
    added_at TEXT NOT NULL,
    PRIMARY KEY (group_folder, name)
  );
  `,
];
