// `nanoclaw start [--no-setup]`: run the host until SIGINT/SIGTERM, and say
// what is missing. The first run with nothing configured, at a terminal, is a
// short guided setup; --no-setup (or no terminal, as under a service) skips it.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config/config.js';
import { acquireHostLock, alreadyRunning, type HostLock } from './host-lock.js';
import { homePaths } from '../core/config/home.js';
import { projectRoot } from '../core/config/project-root.js';
import { startHost } from '../host.js';
import { reportModelCheck } from './model-check.js';
import { needsSetup, runSetup } from './setup.js';
import { flag, prompter } from './term.js';

/** The dashboard address that signs in by itself (the token stays in the URL fragment, never sent to a server). */
export function dashboardLink(url: string, token: string): string {
  return `${url}/#token=${encodeURIComponent(token)}`;
}

/** The home's one-host lock, or null (and why, on stderr) when another host has it. */
function lockHome(config: Config): HostLock | null {
  const data = homePaths(config.home).data;
  const got = acquireHostLock(data);
  if (!got.ok) {
    process.stderr.write(`${alreadyRunning(got.holder, config.home)}\n`);
    return null;
  }
  // Left by a host that died: it no longer describes anything running.
  fs.rmSync(`${data}/host.json`, { force: true });
  return got.lock;
}

/** Where `name` is on PATH, links resolved; null when it is not there. */
function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return fs.realpathSync(path.join(dir, name));
    } catch {
      /* not in this one */
    }
  }
  return null;
}

const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * A command that opens the chat from a new terminal, whatever folder it starts in: `nanoclaw` only when that is
 * this install (after "npm link"), else this install's cli.js by its full path; always with this home.
 */
export function chatHint(home: string, env = process.env, root = projectRoot(), node = process.execPath): string {
  const cli = path.join(root, 'dist', 'src', 'cli.js');
  const real = (file: string) => (fs.existsSync(file) ? fs.realpathSync(file) : file);
  const command =
    onPath('nanoclaw', env) === real(cli)
      ? 'nanoclaw'
      : `${onPath('node', env) === real(node) ? 'node' : shellWord(node)} ${shellWord(cli)}`;
  return `NANOCLAW_HOME=${shellWord(home)} ${command} chat`;
}

export async function startCommand(args: string[], config: Config): Promise<number> {
  const lock = lockHome(config);
  if (!lock) return 1;
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
  const out = process.stdout;
  // Heard from here on: a stop while the model is checked below still stops the host in order.
  const stopped = new Promise<void>((resolve) => {
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
  // Written whole or not at all: a reader never sees half a file.
  const hostJson = `${host.paths.data}/host.json`;
  fs.writeFileSync(
    `${hostJson}.tmp`,
    JSON.stringify({ url: host.url, pid: process.pid, startedAt: new Date().toISOString() }) + '\n',
  );
  fs.renameSync(`${hostJson}.tmp`, hostJson);
  out.write(`NanoClaw is running in ${config.home}\n`);
  // The sign-in link carries the token: show it to a person at a terminal, not to a log file.
  out.write(
    interactive
      ? `  Dashboard: ${dashboardLink(host.url, host.token)}\n`
      : `  Local API and dashboard: ${host.url}  (token in ${host.paths.apiToken}; "nanoclaw dashboard" prints a sign-in link)\n`,
  );
  out.write(`  Sandbox runtime: ${host.runtime?.name ?? 'none'}\n`);
  out.write(`  Chat with it:  open a second terminal and run (or use the dashboard):\n    ${chatHint(config.home)}\n`);
  for (const p of host.runtimeProblems) out.write(`  ! ${p}\n`);
  await reportModelCheck(config, out);
  out.write(`  Logs: ${host.paths.logs}/nanoclaw.log\n`);

  await stopped;
  try {
    fs.unlinkSync(`${host.paths.data}/host.json`);
  } catch {
    /* already gone */
  }
  lock.release();
  // Stopped means gone: a library's own timer (Baileys keeps an unanswered query for 60 s) must not keep it running.
  setTimeout(() => process.exit(), 1000).unref();
  return 0;
}
