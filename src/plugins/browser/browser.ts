// The agent's browser: agent-browser (the registry package, a native CLI that
// drives Chromium over CDP) and a Chromium the sandbox can see. The CLI comes
// from this install's node_modules, bound read-only at /app/bin/agent-browser;
// Chromium is the system's (bwrap sees the host's /usr read-only; the agent
// image installs Debian's and names it in AGENT_BROWSER_EXECUTABLE_PATH). Every page load goes through the gateway's egress
// proxy, loopback included, so the group's network policy applies to the
// browser exactly as to curl.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Mount } from '../../core/types.js';
import { LOCAL_FORWARDER_PORT } from '../../core/sandbox/sandbox-env.js';

export const AGENT_BROWSER_INSIDE = '/app/bin/agent-browser';

/** Where Chromium lives, real binary first: Debian's /usr/bin/chromium is a shell wrapper that needs /etc/chromium.d. */
export const CHROMIUM_CANDIDATES = [
  '/usr/lib/chromium/chromium',
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

/**
 * Flags for Chromium in a sandbox: headless, no setuid sandbox (the jail is
 * ours, and it has no user namespaces left to nest), nothing that phones home,
 * and every connection, loopback too, to the egress proxy.
 */
export function chromiumArgs(port = LOCAL_FORWARDER_PORT): string[] {
  return [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-breakpad',
    `--proxy-server=http://127.0.0.1:${port}`,
    // Chromium never proxies loopback by default; inside the sandbox loopback is
    // only our forwarder, so a page on 127.0.0.1 means the host's, under the policy.
    '--proxy-bypass-list=<-loopback>',
  ];
}

/** The native agent-browser binary for a Linux sandbox on this machine's architecture. */
export function agentBrowserBinaryName(arch = process.arch, musl = isMuslHost()): string {
  return `agent-browser-linux-${musl ? 'musl-' : ''}${arch === 'arm64' ? 'arm64' : 'x64'}`;
}

function isMuslHost(): boolean {
  if (process.platform !== 'linux') return false;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return !report?.header?.glibcVersionRuntime;
}

/** The installed agent-browser package's folder, or null when it is not installed. */
export function agentBrowserDir(): string | null {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('agent-browser/package.json'));
  } catch {
    return null;
  }
}

/** The host path of the binary a sandbox of this runtime runs, made executable if the install skipped its script. */
export function agentBrowserBinary(runtimeName: string): string | null {
  const dir = agentBrowserDir();
  if (!dir) return null;
  // Containers run the image's glibc Debian; bwrap runs the host's own libc.
  const file = path.join(dir, 'bin', agentBrowserBinaryName(process.arch, runtimeName === 'bwrap' ? undefined : false));
  if (!fs.existsSync(file)) return null;
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    try {
      fs.chmodSync(file, 0o755);
    } catch {
      return null;
    }
  }
  return file;
}

/** The host's Chromium, as bwrap sees it (the same path inside: /usr is bound read-only). */
export function hostChromium(exists: (p: string) => boolean = fs.existsSync): string | null {
  return CHROMIUM_CANDIDATES.find((p) => p.startsWith('/usr/') && exists(p)) ?? null;
}

/** The mount and environment that give a sandbox the browser; nothing when agent-browser is not installed. */
export function browserSetup(runtimeName: string): { mounts: Mount[]; env: Record<string, string> } {
  const binary = agentBrowserBinary(runtimeName);
  if (!binary) return { mounts: [], env: {} };
  // A container's image names its own Chromium (its ENV); only bwrap uses the host's.
  const chromium = runtimeName === 'bwrap' ? hostChromium() : null;
  return {
    mounts: [{ hostPath: binary, containerPath: AGENT_BROWSER_INSIDE, readonly: true }],
    env: {
      ...(chromium ? { AGENT_BROWSER_EXECUTABLE_PATH: chromium } : {}),
      AGENT_BROWSER_ARGS: chromiumArgs().join('\n'),
      // agent-browser would otherwise hand NO_PROXY (our loopback exemption for the model) to Chromium.
      AGENT_BROWSER_PROXY: `http://127.0.0.1:${LOCAL_FORWARDER_PORT}`,
      AGENT_BROWSER_PROXY_BYPASS: '<-loopback>',
      AGENT_BROWSER_SCREENSHOT_DIR: '/workspace/group/screenshots',
    },
  };
}

/** What `doctor` says about the browser for this runtime: fine, or what is missing and how to install it. */
export function browserProblems(runtimeName: string): string[] {
  const problems: string[] = [];
  if (!agentBrowserBinary(runtimeName))
    problems.push(
      `agent-browser is not installed (or has no binary for linux-${process.arch}): run "npm install" in the NanoClaw folder; agents will have no browser.`,
    );
  if (runtimeName === 'bwrap' && !hostChromium())
    problems.push(
      'Chromium is not installed, so agents in bwrap sandboxes have no browser: apt-get install chromium (or dnf install chromium).',
    );
  return problems;
}
