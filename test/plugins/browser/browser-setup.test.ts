// How a sandbox gets its browser, and what doctor says when part of it is missing.
import fs from 'node:fs';
import { expect, test } from 'vitest';
import { checkBrowser } from '../../../src/cli/doctor-checks.js';
import { loadConfig } from '../../../src/core/config/config.js';
import {
  AGENT_BROWSER_INSIDE,
  browserSetup,
  chromiumArgs,
  hostChromium,
} from '../../../src/plugins/browser/browser.js';
import type { PluginCore, PluginParts } from '../../../src/core/plugin.js';
import type { SandboxStart } from '../../../src/core/sandbox/parts.js';
import { browser } from '../../../src/plugins/browser/index.js';
import { makeHome } from '../../support/harness.js';

test('Chromium runs headless without its own sandbox or background traffic, every request through the egress proxy', () => {
  const args = chromiumArgs(3129);
  for (const flag of [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
  ])
    expect(args).toContain(flag);
  expect(args).toContain('--disable-component-update');
  expect(args).toContain('--disable-sync');
  expect(args).toContain('--proxy-server=http://127.0.0.1:3129');
  expect(args).toContain('--proxy-bypass-list=<-loopback>');
});

test("the host's Chromium: the real binary before Debian's wrapper script, nothing when none is installed", () => {
  expect(hostChromium((p) => p === '/usr/bin/chromium' || p === '/usr/lib/chromium/chromium')).toBe(
    '/usr/lib/chromium/chromium',
  );
  expect(hostChromium((p) => p === '/usr/bin/chromium-browser')).toBe('/usr/bin/chromium-browser');
  expect(hostChromium(() => false)).toBeNull();
});

test('a bwrap sandbox gets the installed agent-browser read-only and the executable path of this Chromium', () => {
  const setup = browserSetup('bwrap');
  expect(setup.mounts).toHaveLength(1);
  expect(setup.mounts[0]).toMatchObject({ containerPath: AGENT_BROWSER_INSIDE, readonly: true });
  fs.accessSync(setup.mounts[0]!.hostPath, fs.constants.X_OK);
  expect(setup.env.AGENT_BROWSER_EXECUTABLE_PATH).toBe(hostChromium());
  expect(setup.env.AGENT_BROWSER_PROXY_BYPASS).toBe('<-loopback>');
  // Containers use the Chromium their image names (its ENV), whatever the host has.
  expect(browserSetup('podman').env.AGENT_BROWSER_EXECUTABLE_PATH).toBeUndefined();
  expect(browserSetup('podman').mounts).toHaveLength(1);
});

test('with the browser, a sandbox also gets the built module that tells the agent about it, read-only', async () => {
  const parts = (await browser.setup!({} as PluginCore)) as PluginParts;
  const { mounts = [] } = parts.sandbox!({ runtime: { name: 'bwrap' } } as SandboxStart) ?? {};
  expect(mounts.slice(1)).toEqual([
    {
      hostPath: expect.stringMatching(/\/dist\/src\/plugins\/browser\/runner\.js$/),
      containerPath: '/app/plugins/browser.js',
      readonly: true,
    },
  ]);
  // Mounted alone, it can import only what every sandbox has: node's built-ins.
  const imports = [...fs.readFileSync(mounts[1]!.hostPath, 'utf8').matchAll(/^import .* from '([^']+)'/gm)];
  expect(imports.map((m) => m[1])).toEqual(['node:fs']);
});

test('doctor warns (never fails) with the fix when the browser is missing', async () => {
  const config = loadConfig({ NANOCLAW_HOME: makeHome(), NANOCLAW_RUNTIME: 'bwrap', TZ: 'UTC' });
  const missing = await checkBrowser(config, () => [
    'Chromium is not installed … apt-get install chromium',
    'agent-browser is not installed',
  ]);
  expect(missing).toMatchObject({
    name: 'Browser',
    level: 'warn',
    fix: expect.stringContaining('apt-get install chromium'),
  });
  expect(missing?.notes).toEqual(['agent-browser is not installed']);
  expect(await checkBrowser(config, () => [])).toMatchObject({ name: 'Browser', level: 'ok' });
});
