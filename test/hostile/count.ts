// Counts the hostile cases that ran. Each test file calls countCases(); after
// the file, the number of its cases lands in a shared folder, and the global
// teardown (count-total.ts) prints the total.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';

export const DIR_ENV = 'NANOCLAW_HOSTILE_COUNT_DIR';

interface TaskLike {
  type: string;
  mode: string;
  name: string;
  tasks?: TaskLike[];
  result?: { state?: string };
}

function casesIn(task: TaskLike): { ran: number; failed: number } {
  if (task.type === 'test') {
    const ran = task.mode === 'run' || task.mode === 'only' ? 1 : 0;
    return { ran, failed: ran && task.result?.state === 'fail' ? 1 : 0 };
  }
  let ran = 0;
  let failed = 0;
  for (const t of task.tasks ?? []) {
    const c = casesIn(t);
    ran += c.ran;
    failed += c.failed;
  }
  return { ran, failed };
}

/** Call once at the top of a hostile test file. */
export function countCases(label: string): void {
  afterAll((suite) => {
    const dir = process.env[DIR_ENV];
    if (!dir) return;
    const c = casesIn(suite as unknown as TaskLike);
    fs.writeFileSync(path.join(dir, `${label}.json`), JSON.stringify({ label, ...c }));
  });
}
