// Queries over registered groups and per-group sessions.
import type { DB } from './db.js';
import { SET_SESSION, now } from './outbox.js';
import type { RegisteredGroup, SandboxSettings } from '../types.js';

interface Row {
  jid: string;
  name: string;
  folder: string;
  trigger: string;
  requires_trigger: number;
  is_main: number;
  sandbox: string;
  added_at: string;
}

function fromRow(r: Row): RegisteredGroup {
  let sandbox: SandboxSettings = {};
  try {
    sandbox = JSON.parse(r.sandbox);
  } catch {
    /* unreadable: no settings */
  }
  return {
    jid: r.jid,
    name: r.name,
    folder: r.folder,
    trigger: r.trigger,
    requiresTrigger: !!r.requires_trigger,
    isMain: !!r.is_main,
    sandbox,
    addedAt: r.added_at,
  };
}

const maybe = (r: unknown) => (r ? fromRow(r as Row) : undefined);

export function groupQueries(db: DB) {
  const all = db.prepare(`SELECT * FROM registered_groups ORDER BY is_main DESC, added_at`);
  const byJid = db.prepare(`SELECT * FROM registered_groups WHERE jid = ?`);
  const byFolder = db.prepare(`SELECT * FROM registered_groups WHERE folder = ?`);
  const insert = db.prepare(
    `INSERT INTO registered_groups (jid, name, folder, trigger, requires_trigger, is_main, sandbox, added_at)
     VALUES (@jid, @name, @folder, @trigger, @requiresTrigger, @isMain, @sandbox, @addedAt)`,
  );
  const update = db.prepare(
    `UPDATE registered_groups SET name = @name, trigger = @trigger, requires_trigger = @requiresTrigger, sandbox = @sandbox WHERE jid = @jid`,
  );
  const remove = db.prepare(`DELETE FROM registered_groups WHERE jid = ?`);
  const getSession = db.prepare(`SELECT session_id FROM sessions WHERE group_folder = ?`);
  const setSession = db.prepare(SET_SESSION);
  const clearSession = db.prepare(`DELETE FROM sessions WHERE group_folder = ?`);

  const stored = (g: Partial<RegisteredGroup>) => ({
    ...g,
    requiresTrigger: g.requiresTrigger ? 1 : 0,
    isMain: g.isMain ? 1 : 0,
    sandbox: JSON.stringify(g.sandbox ?? {}),
  });

  return {
    list: () => (all.all() as Row[]).map(fromRow),
    get: (jid: string) => maybe(byJid.get(jid)),
    byFolder: (folder: string) => maybe(byFolder.get(folder)),
    main(): RegisteredGroup | undefined {
      return this.list().find((g) => g.isMain);
    },
    insert: (g: RegisteredGroup) => void insert.run(stored(g)),
    update: (g: Pick<RegisteredGroup, 'jid' | 'name' | 'trigger' | 'requiresTrigger' | 'sandbox'>) =>
      void update.run(stored(g)),
    remove: (jid: string) => remove.run(jid).changes > 0,
    session: (folder: string) => (getSession.get(folder) as { session_id: string } | undefined)?.session_id,
    setSession: (folder: string, sessionId: string) => void setSession.run(folder, sessionId, now()),
    clearSession: (folder: string) => void clearSession.run(folder),
  };
}
