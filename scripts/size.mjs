#!/usr/bin/env node
// npm run size: how much a reader has to take in. Tokens are counted the way the
// original NanoClaw counted its own (characters of the .ts files / 4). The core is
// src/core/ plus runner/ and has a budget; each plugin in src/plugins/ is listed on
// its own; the kit (src/kit/: what plugins and the command share, never used by the
// core: setup forms, doctor checks, the .env writer, text and bounded reads, the log reader), the command (src/cli/, src/*.ts) and anything else
// under src/ are shown too, so nothing hides.
import fs from 'node:fs';
import path from 'node:path';

export const CORE_BUDGET_TOKENS = 50_000;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Characters of every .ts file under `dir` (recursively), or 0 when it does not exist. */
function chars(dir) {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += chars(p);
    else if (e.name.endsWith('.ts')) n += fs.readFileSync(p, 'utf8').length;
  }
  return n;
}

const tokens = (c) => Math.round(c / 4);
const subdirs = (dir) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort()
    : [];
const topFiles = (dir) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .reduce((n, e) => n + fs.readFileSync(path.join(dir, e.name), 'utf8').length, 0);

const src = path.join(root, 'src');
const core = chars(path.join(src, 'core')) + chars(path.join(root, 'runner'));
const rows = [['core (src/core + runner)', tokens(core)]];
for (const p of subdirs(path.join(src, 'plugins')))
  rows.push([`plugin ${p}`, tokens(chars(path.join(src, 'plugins', p)))]);
const outside = subdirs(src).filter((d) => !['core', 'plugins', 'cli', 'kit'].includes(d));
rows.push(['kit (src/kit)', tokens(chars(path.join(src, 'kit')))]);
rows.push(['the command (src/cli + src/*.ts)', tokens(chars(path.join(src, 'cli')) + topFiles(src))]);
for (const d of outside) rows.push([`src/${d} (outside core and plugins)`, tokens(chars(path.join(src, d)))]);
const total = rows.reduce((n, r) => n + r[1], 0);

const width = Math.max(...rows.map((r) => r[0].length), 5);
const line = (name, n) => `${name.padEnd(width)}  ${String(n.toLocaleString('en-US')).padStart(8)}`;
console.log(`${'part'.padEnd(width)}  ${'tokens'.padStart(8)}`);
for (const [name, n] of rows) console.log(line(name, n));
console.log(line('total', total));
const over = tokens(core) > CORE_BUDGET_TOKENS;
console.log(
  `\ncore: ${tokens(core).toLocaleString('en-US')} of ${CORE_BUDGET_TOKENS.toLocaleString('en-US')} tokens` +
    (over ? ' — over budget: move a feature out into src/plugins/' : ''),
);
const unsorted = rows.filter((r) => r[0].endsWith('(outside core and plugins)')).reduce((n, r) => n + r[1], 0);
if (unsorted) console.log(`${unsorted.toLocaleString('en-US')} tokens sit outside the core and the plugins.`);
process.exitCode = over ? 1 : 0;
