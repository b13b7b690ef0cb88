// After the turn that answered an opted-out member: their words leave the
// session transcript too (replaced in place, so the session stays readable
// for the SDK), as they have already left the store.
import fs from 'node:fs';
import path from 'node:path';
import type { HomePaths } from '../../core/config/home.js';
import { escapeXml } from '../../core/conversation/router.js';
import type { Store } from '../../core/store/index.js';
import { readFile, walk } from './files.js';

const NOT_KEPT = '[not kept: this member asked not to be remembered]';

/** The forms a message's text takes in a JSONL transcript: as sent in the prompt (XML-escaped), JSON-encoded. */
const formsOf = (text: string): string[] =>
  [...new Set([text, escapeXml(text)])].filter((t) => t.trim().length >= 3).map((t) => JSON.stringify(t).slice(1, -1));

export function purgeOptedOut(deps: { store: Store; paths: HomePaths }): number {
  const gone = deps.store.forget.purgeOptedOut();
  const byFolder = new Map<string, string[]>();
  for (const g of gone) {
    const folder = deps.store.groups.get(g.chatJid)?.folder;
    if (folder) byFolder.set(folder, [...(byFolder.get(folder) ?? []), ...formsOf(g.text)]);
  }
  for (const [folder, forms] of byFolder) {
    for (const file of walk(path.join(deps.paths.sessions, folder))) {
      const b = readFile(file);
      if (!b) continue;
      const before = b.toString('utf8');
      const after = forms.reduce((s, f) => s.split(f).join(NOT_KEPT), before);
      if (after !== before) fs.writeFileSync(file, after);
    }
  }
  return gone.length;
}
