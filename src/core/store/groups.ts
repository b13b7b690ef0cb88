// Queries over registered groups and per-group sessions.
import { parse, type DB } from './db.js';
import { SET_SESSION, now } from './outbox.js';
import type { RegisteredGroup } from '../types.js';

const fromRow = (r: any): RegisteredGroup | undefined =>
  r && { ...r, requiresTrigger: !!r.requiresTrigger, isMain: !!r.isMain, sandbox: parse(r.sandbox, {}) };
const toRow = (g: RegisteredGroup) => ({
  ...g,
  requiresTrigger: +!!g.requiresTrigger,
  isMain: +!!g.isMain,
  sandbox: JSON.stringify(g.sandbox ?? {}),
});

export function groupQueries(db: DB) {
  const q = (sql: string) => db.prepare(sql);
  const select = (where: string) =>
    q(`SELECT jid, name, folder, trigger, requires_trigger AS requiresTrigger, is_main AS isMain, sandbox,
      added_at AS addedAt FROM registered_groups ${where}`);
  const all = select('ORDER BY is_main DESC, added_at');
  const [byJid, byFolder] = [select('WHERE jid = ?'), select('WHERE folder = ?')];
  const insert = q(`INSERT INTO registered_groups (jid, name, folder, trigger, requires_trigger, is_main, sandbox,
    added_at) VALUES (@jid, @name, @folder, @trigger, @requiresTrigger, @isMain, @sandbox, @addedAt)`);
  const update = q(`UPDATE registered_groups SET name = @name, trigger = @trigger, requires_trigger = @requiresTrigger,
    sandbox = @sandbox WHERE jid = @jid`);
  const remove = q(`DELETE FROM registered_groups WHERE jid = ?`);
  const session = q(`SELECT session_id FROM sessions WHERE group_folder = ?`).pluck();
  const setSession = q(SET_SESSION);
  const clearSession = q(`DELETE FROM sessions WHERE group_folder = ?`);
  const list = () => all.all().map(fromRow) as RegisteredGroup[];

  return {
    list,
    get: (jid: string) => fromRow(byJid.get(jid)),
    byFolder: (folder: string) => fromRow(byFolder.get(folder)),
    main: () => list().find((g) => g.isMain),
    insert: (g: RegisteredGroup) => void insert.run(toRow(g)),
    update: (g: RegisteredGroup) => void update.run(toRow(g)),
    remove: (jid: string) => remove.run(jid).changes > 0,
    session: (folder: string) => session.get(folder) as string | undefined,
    setSession: (folder: string, sessionId: string) => void setSession.run(folder, sessionId, now()),
    clearSession: (folder: string) => void clearSession.run(folder),
  };
}
