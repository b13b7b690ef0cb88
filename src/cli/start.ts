// `nanoclaw start`: run the host until SIGINT/SIGTERM, and say what is missing.
import fs from 'node:fs';
import type { Config } from '../config.js';
import { startHost } from '../host.js';

export async function startCommand(_args: string[], config: Config): Promise<number> {
  const host = await startHost({ config });
  fs.writeFileSync(`${host.paths.data}/host.json`, JSON.stringify({ url: host.url, pid: process.pid, startedAt: new Date().toISOString() }) + '\n');
  const out = process.stdout;
  out.write(`NanoClaw is running in ${config.home}\n`);
  out.write(`  Local API and dashboard: ${host.url}  (token in ${host.paths.apiToken})\n`);
  out.write(`  Sandbox runtime: ${host.runtime?.name ?? 'none'}\n`);
  out.write(`  Chat with it:  npx nanoclaw chat\n`);
  for (const p of host.runtimeProblems) out.write(`  ! ${p}\n`);
  out.write(`  Logs: ${host.paths.logs}/nanoclaw.log\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      out.write(`\n${signal}: stopping…\n`);
      host.stop().finally(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  try { fs.unlinkSync(`${host.paths.data}/host.json`); } catch { /* already gone */ }
  return 0;
}
