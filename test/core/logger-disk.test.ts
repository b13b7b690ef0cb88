// The log file on a full disk: the process neither dies nor hangs, it drops
// log lines and keeps running, and writes again once space is back. Runs the
// built logger in a child process, the way `nanoclaw start` uses it.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { projectRoot } from '../../src/core/config/project-root.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-logfull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
});
afterAll(() => {
  execFileSync('umount', ['-l', dir]);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `body` with `logger` made on dir/logs; resolves with its exit code and stdout (or 'hung'). */
function runChild(body: string): Promise<{ code: number | null; out: string }> {
  const logger = path.join(projectRoot(), 'dist/src/core/logger.js');
  const script = `import { createLogger } from ${JSON.stringify(logger)};
const logger = createLogger({ level: 'info', logsDir: ${JSON.stringify(path.join(dir, 'logs'))} });
${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: null, out: out + '\n[hung: killed after 20 s]' });
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('logging into a full disk neither throws nor hangs; lines are dropped until space is back', async () => {
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const filler = path.join(dir, 'filler');
  try {
    fs.writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024));
  } catch {
    /* the disk is full now */
  }
  const full = await runChild(`
for (let i = 0; i < 20000; i++) logger.info({ i, pad: 'x'.repeat(200) }, 'a line for the full disk');
await new Promise((r) => setTimeout(r, 300));
console.log('still-alive');
logger.flush();
process.exit(0);`);
  expect(full.out).toContain('still-alive');
  expect(full.code).toBe(0);

  fs.rmSync(filler);
  const back = await runChild(`
logger.info('space is back');
await new Promise((r) => logger.flush(r));
console.log('done');`);
  expect(back.code).toBe(0);
  expect(fs.readFileSync(path.join(dir, 'logs', 'nanoclaw.log'), 'utf8')).toContain('space is back');
});
