// Starts a real host in a fresh temporary home, with the real bwrap sandbox and
// the real Claude Agent SDK, talking to the fake Anthropic API on 127.0.0.1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/core/config/config.js';
import { startHost, type Host, type HostOptions, type RouteDecision } from '../../src/host.js';
import type { Message } from '../../src/core/types.js';
import { silentLogger, createLogger } from '../../src/core/logger.js';
import { startFakeAnthropic, type FakeAnthropic, type Script } from './fake-anthropic.js';

export const TEST_KEY = 'sk-ant-test-honeytoken-7f3a9c1e5b';

export interface TestEnv {
  home: string;
  fake: FakeAnthropic;
  host: Host;
  config: Config;
  api(pathname: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  send(chatJid: string, text: string, senderName?: string): Promise<string>;
  messages(chatJid: string): Promise<any[]>;
  /** Waits until `count` assistant replies are in the chat; re-checks whenever the host stores a message there. */
  waitForReply(chatJid: string, opts?: { count?: number; timeoutMs?: number }): Promise<any[]>;
  /** Waits until `check` holds for the chat's messages (as the API returns them); re-checks on every message the host stores there. */
  untilChat(
    chatJid: string,
    check: (messages: any[]) => boolean,
    timeoutMs?: number,
    what?: string | ((last: any[]) => string),
  ): Promise<any[]>;
  /** Waits for an assistant reply, after the first `after` ones, whose text matches `pattern`; answers that text. */
  replyAfter(chatJid: string, after: number, pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits until the host has stored and routed a message matching `match`; answers what routing did. */
  waitRouted(match: (msg: Message) => boolean, timeoutMs?: number): Promise<RouteDecision>;
  /** Stops the host and starts it again on the same home; `whileStopped` runs in between. */
  restart(extra?: Record<string, string>, whileStopped?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export function makeHome(prefix = 'nanoclaw-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestEnv(
  opts: { script?: Script; env?: Record<string, string>; home?: string; host?: Partial<HostOptions> } = {},
): Promise<TestEnv> {
  const home = opts.home ?? makeHome();
  const fake = await startFakeAnthropic(opts.script);
  const baseEnv = (): Record<string, string> => ({
    NANOCLAW_HOME: home,
    NANOCLAW_CONFIG_DIR: path.join(home, '.config-nanoclaw'),
    ANTHROPIC_API_KEY: TEST_KEY,
    ANTHROPIC_BASE_URL: fake.url,
    NANOCLAW_RUNTIME: 'bwrap',
    NANOCLAW_HTTP_PORT: '0',
    TZ: 'Europe/Berlin',
    IDLE_TIMEOUT: '3000',
    NANOCLAW_RETRY_BASE_MS: '200',
    // A test that wants warm agents (test/e2e/warm-agents.test.ts) turns them on; the rest count sandboxes exactly.
    NANOCLAW_WARM_AGENTS: '0',
    ...opts.env,
  });
  const logger = process.env.NANOCLAW_TEST_LOG ? createLogger({ level: 'debug', stderr: true }) : silentLogger();
  let config = loadConfig(baseEnv(), home);
  // Every routing decision is kept, so a test can prove a message was handled without sleeping.
  const routed: { msg: Message; decision: RouteDecision }[] = [];
  const routeWaiters = new Set<() => void>();
  const hostOptions = (): HostOptions => ({
    config,
    logger,
    ...opts.host,
    onRouted: (msg, decision) => {
      routed.push({ msg, decision });
      for (const w of routeWaiters) w();
      opts.host?.onRouted?.(msg, decision);
    },
  });
  let host = await startHost(hostOptions());

  const env: TestEnv = {
    home,
    fake,
    host,
    config,
    async api(pathname, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${env.host.token}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      return fetch(env.host.url + pathname, { ...init, headers, body });
    },
    async send(chatJid, text, senderName = 'Sam') {
      const res = await env.api(`/api/chats/${encodeURIComponent(chatJid)}/messages`, {
        method: 'POST',
        json: { sender: `user-${senderName}`, senderName, text },
      });
      if (res.status !== 202) throw new Error(`send failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    },
    async messages(chatJid) {
      const res = await env.api(`/api/chats/${encodeURIComponent(chatJid)}/messages`);
      return ((await res.json()) as { messages: any[] }).messages;
    },
    async waitForReply(chatJid, o = {}) {
      const count = o.count ?? 1;
      const timeoutMs = o.timeoutMs ?? 90_000;
      const replies = (ms: any[]) => ms.filter((m) => m.fromAssistant);
      const last = await env.untilChat(
        chatJid,
        (ms) => replies(ms).length >= count,
        timeoutMs,
        (ms) => `no reply in ${chatJid} after ${timeoutMs} ms (have ${replies(ms).length}/${count})`,
      );
      return replies(last);
    },
    async replyAfter(chatJid, after, pattern, timeoutMs = 90_000) {
      const texts = (ms: any[]) => ms.filter((m) => m.fromAssistant).map((m) => String(m.text));
      const match = (ms: any[]) =>
        texts(ms)
          .slice(after)
          .find((t) => pattern.test(t));
      return match(
        await env.untilChat(chatJid, (ms) => match(ms) !== undefined, timeoutMs, `a reply matching ${pattern}`),
      )!;
    },
    async untilChat(chatJid, check, timeoutMs = 30_000, what = 'the chat') {
      const failure = typeof what === 'string' ? () => `timed out waiting for ${what}` : what;
      // Listen before the first read, so a message stored in between still triggers a re-check.
      let dirty = true;
      let wake: (() => void) | null = null;
      const unsubscribe = env.host.subscribe((m) => {
        if (m.chatJid === chatJid) {
          dirty = true;
          wake?.();
        }
      });
      const deadline = Date.now() + timeoutMs;
      let last: any[] = [];
      try {
        for (;;) {
          if (dirty) {
            dirty = false;
            last = await env.messages(chatJid);
            if (check(last)) return last;
            continue;
          }
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(failure(last));
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, left);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = null;
        }
      } finally {
        unsubscribe();
      }
    },
    async waitRouted(match, timeoutMs = 30_000) {
      const find = () => routed.find((r) => match(r.msg))?.decision;
      let wake: (() => void) | undefined;
      try {
        await waitFor(
          () => find() !== undefined,
          timeoutMs,
          (w) => {
            routeWaiters.add((wake = w));
          },
          () => 'timed out waiting for the host to route the message',
        );
      } finally {
        if (wake) routeWaiters.delete(wake);
      }
      return find()!;
    },
    async restart(extra = {}, whileStopped) {
      await env.host.stop();
      await whileStopped?.();
      config = loadConfig({ ...baseEnv(), ...extra }, home);
      env.config = config;
      env.host = host = await startHost(hostOptions());
    },
    async close() {
      await env.host.stop().catch(() => {});
      await fake.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  return env;
}

/** Resolves once `done` holds, re-checking each time the event source calls the wake function it is handed. */
function waitFor(
  done: () => boolean,
  timeoutMs: number,
  listen: (wake: () => void) => void,
  failure: () => string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(failure())), timeoutMs);
    const check = () => {
      if (done()) {
        clearTimeout(timer);
        resolve();
      }
    };
    listen(check);
    check();
  });
}

/** Polls until `check` is true or the time is up; for conditions the host sends no event for. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Registers `local:family` (answering every message) with the host folder `notes` mounted read-write at
 * /workspace/extra/notes, allowed by the mount allowlist; `bashPatterns` are the Bash words it must ask about.
 */
export async function familyWithHostFolder(env: TestEnv, notes: string, bashPatterns: string[]): Promise<void> {
  fs.mkdirSync(env.config.configDir, { recursive: true });
  fs.writeFileSync(
    path.join(env.config.configDir, 'mount-allowlist.json'),
    JSON.stringify({ allowedRoots: [{ path: notes, allowReadWrite: true }], nonMainReadOnly: false }),
  );
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: {
      jid: 'local:family',
      name: 'Family',
      folder: 'family',
      requiresTrigger: false,
      sandbox: {
        approvals: { policy: { bash: 'ask' }, bashPatterns },
        extraMounts: [{ hostPath: notes, containerPath: 'notes', readonly: false }],
      },
    },
  });
  if (res.status !== 201) throw new Error(`registering local:family failed: ${res.status} ${await res.text()}`);
}
