// The hostile suite's globalSetup: a folder where each test file leaves its case
// count, and at the end the total ("hostile cases: N"). Kept apart from count.ts
// because a globalSetup module may not import vitest.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const DIR_ENV = 'NANOCLAW_HOSTILE_COUNT_DIR';

let countDir: string | null = null;

export function setup(): void {
  countDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-hostile-count-'));
  process.env[DIR_ENV] = countDir;
}

export function teardown(): void {
  if (!countDir) return;
  const rows = fs
    .readdirSync(countDir)
    .map(
      (f) =>
        JSON.parse(fs.readFileSync(path.join(countDir!, f), 'utf8')) as { label: string; ran: number; failed: number },
    );
  rows.sort((a, b) => a.label.localeCompare(b.label));
  const total = rows.reduce((n, r) => n + r.ran, 0);
  const failed = rows.reduce((n, r) => n + r.failed, 0);
  const lines = rows.map(
    (r) => `  ${r.label.padEnd(12)} ${String(r.ran).padStart(4)}${r.failed ? ` (${r.failed} failed)` : ''}`,
  );
  process.stdout.write(`\n${lines.join('\n')}\nhostile cases: ${total}${failed ? ` (${failed} failed)` : ''}\n`);
  fs.rmSync(countDir, { recursive: true, force: true });
}
