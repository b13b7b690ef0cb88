// Each plugin keeps its own tables now. A store made before that (schema 9, every table in the core's
// migrations) must open with the same tables and its rows intact, and a new store must end with the
// same schema as an old one.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { openStore } from '../../src/host.js';
import { makeHome } from '../support/harness.js';

const V9 = fs.readFileSync(path.join(import.meta.dirname, '../fixtures/schema-v9.sql'), 'utf8');

/** Every table's columns, every index's columns and every trigger, by name: the schema as queries see it. */
function shape(file: string) {
  const db = new Database(file, { readonly: true });
  const objects = db
    .prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name != 'plugin_schema'")
    .all() as { type: string; name: string }[];
  const out: Record<string, unknown> = {};
  for (const o of objects) {
    if (o.type === 'table') out[`table ${o.name}`] = db.pragma(`table_info(${JSON.stringify(o.name)})`);
    else if (o.type === 'index') out[`index ${o.name}`] = db.pragma(`index_info(${JSON.stringify(o.name)})`);
    else out[`${o.type} ${o.name}`] = true;
  }
  db.close();
  return out;
}

function oldStore(): string {
  const file = path.join(makeHome('nanoclaw-schema-'), 'old.db');
  const db = new Database(file);
  db.exec(V9);
  db.prepare(
    `INSERT INTO scheduled_tasks (id, group_folder, chat_jid, prompt, schedule_type, schedule_value, created_at)
     VALUES ('task-1', 'main', 'local:main', 'water the plants', 'once', '2030-01-01T09:00:00', '2026-01-01')`,
  ).run();
  db.prepare(
    "INSERT INTO consent_opt_outs (chat_jid, sender, created_at) VALUES ('tg:-1', 'tg:7', '2026-01-01')",
  ).run();
  db.close();
  return file;
}

test('a store from before plugins kept their own tables opens with the same schema and its rows', () => {
  const file = oldStore();
  const before = shape(file);
  const store = openStore(file);
  expect(store.tasks.get('task-1')?.prompt).toBe('water the plants');
  expect(store.forget.isOptedOut('tg:-1', 'tg:7')).toBe(true);
  store.close();
  const after = shape(file);
  // Everything schema 9 had is there unchanged (plugins may add tables of their own).
  expect(Object.fromEntries(Object.keys(before).map((k) => [k, after[k]]))).toEqual(before);
  // Opened again: nothing runs twice.
  openStore(file).close();
  expect(shape(file)).toEqual(after);
});

test('a new store ends with the same schema as an old one opened by this version', () => {
  const fresh = path.join(makeHome('nanoclaw-schema-'), 'new.db');
  openStore(fresh).close();
  const old = oldStore();
  openStore(old).close();
  expect(shape(fresh)).toEqual(shape(old));
});
