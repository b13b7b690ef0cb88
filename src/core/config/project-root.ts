// Where NanoClaw's own package is, whether we run from src/ (tests) or dist/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'nanoclaw') return (cached = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error("Cannot find NanoClaw's package.json above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}
