// Headless Chromium for the dashboard tests, started one way: a fresh profile in a temporary folder (removed on
// close), no traffic of its own beyond the pages a test opens, and a clear error, never a skip, when it is missing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Without sandbox and GPU so it runs in a container; the rest keeps it from calling home (sync, updates, QUIC probes).
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  /** The window Chromium opened with. */
  page: Page;
  /** Closes Chromium and removes its profile. */
  close(): Promise<void>;
}

/** Starts headless Chromium (CHROMIUM_PATH, else /usr/bin/chromium); `viewport` is Playwright's default if not given. */
export async function openBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH.`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-chromium-'));
  const removeProfile = () => fs.rmSync(profile, { recursive: true, force: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      ...(opts.viewport ? { viewport: opts.viewport } : {}),
      args: ARGS,
    });
  } catch (err) {
    removeProfile();
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      try {
        await context.close();
      } finally {
        removeProfile();
      }
    },
  };
}
