// `nanoclaw service install|uninstall [--dry-run] [--platform linux|darwin]`:
// keeps NanoClaw running in the background (systemd user unit on Linux, launchd
// agent on macOS), restarted on failure, logging to logs/service.log.
// NANOCLAW_SERVICE_DIR writes the file elsewhere and leaves systemd/launchd
// alone (tests, packaging).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import type { Config } from '../core/config/config.js';
import { homePaths } from '../core/config/home.js';
import { projectRoot } from '../core/config/project-root.js';
import {
  defaultServiceDir,
  launchdPlist,
  serviceFileName,
  servicePath,
  SYSTEMD_UNIT,
  systemdUnit,
  type ServicePlatform,
  type ServiceSpec,
} from './service-units.js';
import { redact, SECRET_NAME } from '../core/secrets.js';
import { fetchStatus } from './status.js';
import { flag, option, paint, positional } from './term.js';

// What NanoClaw and its plugins read from the environment (config.ts and each plugin's settings).
const SETTING =
  /^(NANOCLAW_|ANTHROPIC_|CLAUDE_CODE_|TELEGRAM_|WHATSAPP_|DISCORD_|SLACK_|SIGNAL_|EMAIL_)|^(ASSISTANT_NAME|TZ|MAX_CONCURRENT_AGENTS|AGENT_TIMEOUT|IDLE_TIMEOUT|LOG_LEVEL)$/;
const NOT_FOR_SERVICE = new Set(['NANOCLAW_HOME', 'NANOCLAW_SERVICE_DIR']);

/**
 * The settings exported in this shell that the home's .env does not already say: the service starts without this
 * shell, so each is carried into its file, except a secret (a file shown on screen and read by tools is no place for
 * one) and a value on several lines; those are left out and named.
 */
export function shellSettings(env: NodeJS.ProcessEnv, home: string) {
  let dotEnv: Record<string, string | undefined> = {};
  try {
    dotEnv = parseEnv(fs.readFileSync(path.join(home, '.env'), 'utf8'));
  } catch {
    /* no .env yet */
  }
  const carried: Record<string, string> = {};
  const leftOut: string[] = [];
  for (const [name, value] of Object.entries(env).sort()) {
    if (!SETTING.test(name) || NOT_FOR_SERVICE.has(name) || value === undefined || dotEnv[name] === value) continue;
    if (SECRET_NAME.test(name) || redact(value) !== value || /[\r\n]/.test(value)) leftOut.push(name);
    else carried[name] = value;
  }
  return { carried, leftOut };
}

export function serviceSpec(config: Config, env: NodeJS.ProcessEnv): ServiceSpec {
  const cli = path.join(projectRoot(), 'dist', 'src', 'cli.js');
  if (!fs.existsSync(cli))
    throw new Error(`NanoClaw is not built (${cli} is missing): run "npm run build" in ${projectRoot()} first.`);
  const nodeDir = path.dirname(process.execPath);
  const pathEnv = servicePath(nodeDir, env.PATH ?? '/usr/local/bin:/usr/bin:/bin');
  return {
    node: fs.realpathSync(process.execPath),
    cli: fs.realpathSync(cli),
    home: config.home,
    logs: homePaths(config.home).logs,
    pathEnv,
    settings: shellSettings(env, config.home).carried,
  };
}

function run(cmd: string, args: string[]): { ok: boolean; output: string } {
  try {
    return {
      ok: true,
      output: execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }),
    };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, output: (e.stderr || e.message).trim() };
  }
}

function activateCommands(platform: ServicePlatform, file: string): string[][] {
  return platform === 'linux'
    ? [
        ['systemctl', '--user', 'daemon-reload'],
        ['systemctl', '--user', 'enable', '--now', SYSTEMD_UNIT],
      ]
    : [
        ['launchctl', 'unload', file],
        ['launchctl', 'load', '-w', file],
      ];
}

function deactivateCommands(platform: ServicePlatform, file: string): string[][] {
  return platform === 'linux'
    ? [['systemctl', '--user', 'disable', '--now', SYSTEMD_UNIT]]
    : [['launchctl', 'unload', '-w', file]];
}

export async function serviceCommand(
  args: string[],
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const out = process.stdout;
  const p = paint(out);
  const [sub] = positional(args, ['--platform']);
  const platform = (option(args, '--platform') ?? process.platform) as ServicePlatform;
  if (platform !== 'linux' && platform !== 'darwin') {
    process.stderr.write(
      `Services are supported on Linux (systemd) and macOS (launchd), not ${platform}. Run "nanoclaw start" under your own supervisor instead.\n`,
    );
    return 2;
  }
  if (sub !== 'install' && sub !== 'uninstall') {
    process.stderr.write('Usage: nanoclaw service install | uninstall [--dry-run] [--platform linux|darwin]\n');
    return 2;
  }
  const dryRun = flag(args, '--dry-run');
  const dir = env.NANOCLAW_SERVICE_DIR ? path.resolve(env.NANOCLAW_SERVICE_DIR) : defaultServiceDir(platform);
  const file = path.join(dir, serviceFileName(platform));
  // Only touch systemd/launchd for a real install on this very platform.
  const manage = !env.NANOCLAW_SERVICE_DIR && platform === process.platform;
  const show = (cmds: string[][]) => cmds.map((c) => `  ${c.join(' ')}`).join('\n');

  if (sub === 'uninstall') {
    if (!fs.existsSync(file)) {
      out.write(`No NanoClaw service is installed (${file} does not exist).\n`);
      return 0;
    }
    const cmds = deactivateCommands(platform, file);
    if (dryRun) {
      out.write(`Would run:\n${show(cmds)}\nand remove ${file}.\n`);
      return 0;
    }
    if (manage) for (const c of cmds) run(c[0], c.slice(1));
    fs.rmSync(file);
    if (manage && platform === 'linux') run('systemctl', ['--user', 'daemon-reload']);
    out.write(`${p.ok('✓')} Removed ${file}${manage ? ' and stopped the service' : ''}.\n`);
    return 0;
  }

  let spec: ServiceSpec;
  try {
    spec = serviceSpec(config, env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  const text = platform === 'linux' ? systemdUnit(spec) : launchdPlist(spec);
  const cmds = activateCommands(platform, file);
  const { carried, leftOut } = shellSettings(env, config.home);
  const envNote = [
    Object.keys(carried).length
      ? `Carried from this shell into the service: ${Object.keys(carried).join(', ')}.\n`
      : '',
    leftOut.length
      ? p.warn(
          `Left out of the service (a secret or a value on several lines): ${leftOut.join(', ')}. Put ${leftOut.length > 1 ? 'them' : 'it'} in ${path.join(config.home, '.env')} (or use "nanoclaw auth"), where the service reads its settings.\n`,
        )
      : '',
  ].join('');
  if (dryRun) {
    out.write(`# ${file}\n${text}\n# then:\n${show(cmds)}\n${envNote}`);
    return 0;
  }
  const running = await fetchStatus(config);
  if (manage && !('error' in running)) {
    out.write(
      p.warn(
        `NanoClaw is already running here (pid ${running.status.pid}). Stop it first, or the service cannot take the port; then run this again.\n`,
      ),
    );
    return 1;
  }
  fs.mkdirSync(spec.logs, { recursive: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o644 });
  out.write(`${p.ok('✓')} Wrote ${file}\n${envNote}`);
  if (!manage) {
    out.write(
      `Not activated (${env.NANOCLAW_SERVICE_DIR ? 'NANOCLAW_SERVICE_DIR is set' : `this is not ${platform}`}). To activate it:\n${show(cmds)}\n`,
    );
    return 0;
  }
  for (const c of cmds) {
    const res = run(c[0], c.slice(1));
    if (!res.ok && !(platform === 'darwin' && c[1] === 'unload')) {
      process.stderr.write(
        `${p.bad('✗')} "${c.join(' ')}" failed: ${res.output}\nThe file is in place; fix the problem and run the command yourself.\n`,
      );
      return 1;
    }
  }
  out.write(
    `${p.ok('✓')} NanoClaw runs in the background now and restarts if it fails. Logs: ${path.join(spec.logs, 'service.log')} and ${path.join(spec.logs, 'nanoclaw.log')}\n`,
  );
  if (platform === 'linux')
    out.write(`To keep it running while you are logged out: loginctl enable-linger ${env.USER ?? '$USER'}\n`);
  out.write(`Check it with "nanoclaw status"; remove it with "nanoclaw service uninstall".\n`);
  return 0;
}
