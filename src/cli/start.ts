// `nanoclaw start [--no-setup]`: run the host until SIGINT/SIGTERM, and say
// what is missing. The first run with nothing configured, at a terminal, is a
// short guided setup; --no-setup (or no terminal, as under a service) skips it.
import fs from 'node:fs';
import type { Config } from '../config/config.js';
import { startHost } from '../host.js';
import { needsSetup, runSetup } from './setup.js';
import { flag, prompter } from './term.js';

/** The dashboard address that signs in by itself (the token stays in the URL fragment, never sent to a server). */
export function dashboardLink(url: string, token: string): string {
  return `${url}/#token=${encodeURIComponent(token)}`;
}

export async function startCommand(args: string[], config: Config): Promise<number> {
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (needsSetup(config) && interactive && !flag(args, '--no-setup')) {
    const ask = prompter();
    try {
      config = await runSetup({ config, ask, out: process.stdout, env: process.env });
    } finally {
      ask.close();
    }
  }
  const host = await startHost({ config });
  // Written whole or not at all: a reader never sees half a file.
  const hostJson = `${host.paths.data}/host.json`;
  fs.writeFileSync(`${hostJson}.tmp`, JSON.stringify({ url: host.url, pid: process.pid, startedAt: new Date().toISOString() }) + '\n');
  fs.renameSync(`${hostJson}.tmp`, hostJson);
  const out = process.stdout;
  out.write(`NanoClaw is running in ${config.home}\n`);
  // The sign-in link carries the token: show it to a person at a terminal, not to a log file.
  out.write(
    interactive
      ? `  Dashboard: ${dashboardLink(host.url, host.token)}\n`
      : `  Local API and dashboard: ${host.url}  (token in ${host.paths.apiToken}; "nanoclaw dashboard" prints a sign-in link)\n`,
  );
  out.write(`  Sandbox runtime: ${host.runtime?.name ?? 'none'}\n`);
  out.write(`  Chat with it:  open a second terminal here and run "npx nanoclaw chat" (or use the dashboard)\n`);
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
  try {
    fs.unlinkSync(`${host.paths.data}/host.json`);
  } catch {
    /* already gone */
  }
  return 0;
}
