// The service definitions `nanoclaw service install` writes: a systemd user
// unit (Linux) and a launchd agent (macOS), generated from the real paths of
// this install so that they run exactly the node and NanoClaw the user has.
import os from 'node:os';
import path from 'node:path';

export type ServicePlatform = 'linux' | 'darwin';

/**
 * glibc's allocator, as every way of starting the host sets it (this unit, `npm start`, the `nanoclaw` command):
 * blocks of 32 kB and more get their own mapping and go back to the system when freed. By default the threshold
 * rises after start-up frees its large buffers, and 10–25 MB of compiler memory freed later stays in the process
 * for good. (glibc reads it at process start, so it cannot be set from inside.)
 */
export const GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=32768';

export const SYSTEMD_UNIT = 'nanoclaw.service';
export const LAUNCHD_LABEL = 'com.nanoclaw';

export interface ServiceSpec {
  /** Absolute path of the node binary. */
  node: string;
  /** Absolute path of dist/src/cli.js. */
  cli: string;
  /** NANOCLAW_HOME. */
  home: string;
  /** Where stdout/stderr go (the home's logs/). */
  logs: string;
  /** PATH for the service: the sandbox runtimes (bwrap, docker) are found through it. */
  pathEnv: string;
  /** Settings exported in the shell that installs it (never secrets: those live in the home's .env). */
  settings?: Record<string, string>;
}

/**
 * The service's PATH: node's folder, then the caller's PATH without what only
 * lived for this command (npx's cache, npm run's node_modules/.bin, temp
 * folders): those are gone, or point at another install, when the service starts.
 */
export function servicePath(nodeDir: string, callerPath: string, tmpdir = os.tmpdir()): string {
  const temporary = (d: string) =>
    /[\\/](_npx|\.npx)([\\/]|$)|[\\/]node_modules[\\/]\.bin([\\/]|$)|[\\/]node-gyp-bin([\\/]|$)|[\\/]npm-cache[\\/]/.test(
      d,
    ) ||
    d === tmpdir ||
    d.startsWith(tmpdir + path.sep);
  return [nodeDir, ...callerPath.split(path.delimiter)]
    .filter((d, i, all) => d && path.isAbsolute(d) && all.indexOf(d) === i && (i === 0 || !temporary(d)))
    .join(path.delimiter);
}

export function defaultServiceDir(platform: ServicePlatform, homedir = os.homedir()): string {
  return platform === 'darwin'
    ? path.join(homedir, 'Library', 'LaunchAgents')
    : path.join(homedir, '.config', 'systemd', 'user');
}

export function serviceFileName(platform: ServicePlatform): string {
  return platform === 'darwin' ? `${LAUNCHD_LABEL}.plist` : SYSTEMD_UNIT;
}

/** A systemd argument or value in double quotes; % and $ are doubled so systemd takes them literally. */
function sq(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

function bare(value: string): string {
  if (/[\r\n]/.test(value))
    throw new Error(`A path with a line break cannot go in a service file: ${JSON.stringify(value)}`);
  return value.replace(/%/g, '%%');
}

export function systemdUnit(spec: ServiceSpec): string {
  return [
    '[Unit]',
    `Description=NanoClaw personal assistant (${bare(spec.home)})`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `WorkingDirectory=${bare(spec.home)}`,
    `Environment=${sq(`NANOCLAW_HOME=${spec.home}`)}`,
    `Environment=${sq(`PATH=${spec.pathEnv}`)}`,
    `Environment=${sq(`GLIBC_TUNABLES=${GLIBC_TUNABLES}`)}`,
    ...Object.entries(spec.settings ?? {}).map(([k, v]) => `Environment=${sq(`${k}=${v}`)}`),
    `ExecStart=${[spec.node, spec.cli, 'start', '--no-setup'].map(sq).join(' ')}`,
    'Restart=on-failure',
    'RestartSec=5',
    // Stopping lets the host finish delivery and close sandboxes; then it is killed.
    'TimeoutStopSec=30',
    `StandardOutput=append:${bare(path.join(spec.logs, 'service.log'))}`,
    `StandardError=append:${bare(path.join(spec.logs, 'service.log'))}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

function xml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function launchdPlist(spec: ServiceSpec): string {
  const str = (v: string) => `<string>${xml(v)}</string>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>${str(LAUNCHD_LABEL)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...[spec.node, spec.cli, 'start', '--no-setup'].map((a) => `    ${str(a)}`),
    '  </array>',
    `  <key>WorkingDirectory</key>${str(spec.home)}`,
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    `    <key>NANOCLAW_HOME</key>${str(spec.home)}`,
    `    <key>PATH</key>${str(spec.pathEnv)}`,
    ...Object.entries(spec.settings ?? {}).map(([k, v]) => `    <key>${xml(k)}</key>${str(v)}`),
    '  </dict>',
    '  <key>RunAtLoad</key><true/>',
    // Restart when it crashes or exits with an error, not after a clean stop.
    '  <key>KeepAlive</key>',
    '  <dict><key>SuccessfulExit</key><false/></dict>',
    '  <key>ThrottleInterval</key><integer>5</integer>',
    `  <key>StandardOutPath</key>${str(path.join(spec.logs, 'service.log'))}`,
    `  <key>StandardErrorPath</key>${str(path.join(spec.logs, 'service.log'))}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
