// Channel latency as the platform sees it: a user message accepted by a
// crabline provider server → the assistant's reply recorded by that server,
// both read from its recorder (one clock). The host is real, with the real
// channel library, bwrap and the Claude Agent SDK; the fake model answers at once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/core/config/config.js';
import { startHost } from '../src/host.js';
import { silentLogger } from '../src/core/logger.js';
import { startCrabline, type Crabline, type CrablinePlatform, type Recorded } from '../test/support/crabline.js';
import type { ChannelPacing } from '../src/core/types.js';
import type { FakeAnthropic } from '../test/support/fake-anthropic.js';

export interface ChannelBenchSpec {
  platform: CrablinePlatform;
  /** The chat the bench talks in, registered to answer every message. */
  chat: string;
  /** Settings that point the host's channel at the server. */
  env(server: Crabline): Record<string, string>;
  /** Anything the home needs before start (e.g. a linked device). */
  seed?(home: string, server: Crabline): void;
  inject(server: Crabline, text: string): Promise<unknown>;
  /** Is this recorder line the reply in the bench chat, accepted by the server? */
  isReply(line: Recorded): boolean;
  /** The channel's pacing: messages are spaced beyond it, so what is measured is latency, not the pacing wait. */
  pacing: ChannelPacing;
}

export interface Latency {
  samples: number[];
}

const at = (l: Recorded) => Date.parse(l.at);

/** Runs `runs` messages one after another (plus a warm-up) and answers each one's accepted → recorded time in ms. */
export async function channelLatency(fake: FakeAnthropic, spec: ChannelBenchSpec, runs: number): Promise<Latency> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `nanoclaw-bench-${spec.platform}-`));
  const server = await startCrabline(spec.platform, path.join(home, '.crabline'));
  spec.seed?.(home, server);
  const config = loadConfig(
    {
      NANOCLAW_HOME: home,
      NANOCLAW_CONFIG_DIR: path.join(home, '.cfg'),
      ANTHROPIC_API_KEY: 'sk-bench',
      ANTHROPIC_BASE_URL: fake.url,
      NANOCLAW_RUNTIME: 'bwrap',
      NANOCLAW_HTTP_PORT: '0',
      IDLE_TIMEOUT: '600000',
      TZ: 'UTC',
      ...spec.env(server),
    },
    home,
  );
  const host = await startHost({ config, logger: silentLogger() });
  try {
    await waitFor(() => host.channels.find((c) => c.name === spec.platform)?.isConnected() === true, 30_000);
    const res = await fetch(`${host.url}/api/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${host.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jid: spec.chat, name: 'Bench', folder: 'bench', requiresTrigger: false }),
    });
    if (res.status !== 201)
      throw new Error(`bench: registering ${spec.chat} failed: ${res.status} ${await res.text()}`);
    const samples: number[] = [];
    for (let i = -1; i < runs; i++) {
      const text = `bench message ${i}`;
      const before = server.recorded().filter(spec.isReply).length;
      await spec.inject(server, text);
      await waitFor(() => server.recorded().filter(spec.isReply).length > before, 120_000);
      const lines = server.recorded();
      const accepted = lines.find((l) => l.type === 'admin' && (l.body as { text?: string })?.text === text)!;
      const reply = lines.filter(spec.isReply)[before]!;
      // The first message starts the sandbox; only warm turns are measured.
      if (i >= 0) samples.push(at(reply) - at(accepted));
      await new Promise((r) => setTimeout(r, spec.pacing.perChatMs + (spec.pacing.jitterMs ?? 0) + 50));
    }
    return { samples };
  } finally {
    await host.stop();
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('bench: timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}
