// A sandbox that goes over a limit is stopped, the chat is told which limit, and
// the host keeps answering other groups meanwhile — on every runtime under test.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RUNTIMES, startBashEnv, type BashEnv } from './support.js';

const LIMITS = { memoryMb: 512, pids: 64, cpus: 1, timeoutMs: 8_000 };

/** The sandbox's stdout: a Bash tool's own output goes to the CLI, so the flood writes to the runner's. */
const FLOOD = `for p in /proc/[0-9]*; do if [ "$(tr '\\0' ' ' < $p/cmdline 2>/dev/null)" = "/app/bin/node /app/runner/index.js " ]; then head -c 100000000 /dev/zero > $p/fd/1; break; fi; done; echo flood-finished`;

describe.each(RUNTIMES)('limits on %s', (runtime) => {
  let env: BashEnv;

  beforeAll(async () => {
    env = await startBashEnv(runtime);
    env.addGroup('wild', LIMITS);
    env.addGroup('calm');
  });
  afterAll(async () => {
    await env?.close();
  });

  test('a fork bomb is stopped by the process limit while another group still gets answered', async () => {
    const before = (await env.messages('local:wild')).filter((m) => m.fromAssistant).length;
    await env.startBash('local:wild', 'bomb() { bomb | bomb & }; bomb; sleep 30; echo bomb-survived');
    // The host is not starved: another group is answered while the bomb goes off.
    const calm = await env.bash('local:calm', 'echo calm-is-fine');
    expect(calm).toContain('calm-is-fine');
    const replies = await env.waitForReply('local:wild', { count: before + 1, timeoutMs: 60_000 });
    const text = replies[replies.length - 1].text;
    expect(text).toContain("couldn't answer");
    expect(text).toContain('started too many processes (more than 64)');
    expect(text).not.toContain('bomb-survived');
  });

  test('a memory hog is stopped by the memory limit', async () => {
    const text = await env.bash(
      'local:wild',
      'node -e "const a=[];for(;;)a.push(Buffer.alloc(16<<20,1))"; echo hog-survived',
      {
        timeoutMs: 60_000,
      },
    );
    expect(text).toContain(`used more than ${LIMITS.memoryMb} MB of memory`);
    expect(text).not.toContain('hog-survived');
  });

  test('a 100 MB stdout flood is stopped by the output cap', async () => {
    const text = await env.bash('local:wild', FLOOD, { timeoutMs: 60_000 });
    expect(text).toContain('wrote more than 16 MB of output');
    expect(text).not.toContain('flood-finished');
  });

  test('a hang is stopped by the timeout while another group still gets answered', async () => {
    const before = (await env.messages('local:wild')).filter((m) => m.fromAssistant).length;
    await env.startBash('local:wild', 'tail -f /dev/null; echo woke-up');
    const calm = await env.bash('local:calm', 'echo still-here');
    expect(calm).toContain('still-here');
    const replies = await env.waitForReply('local:wild', { count: before + 1, timeoutMs: 60_000 });
    expect(replies[replies.length - 1].text).toContain('was still working after 8 s');
    // And the group works again afterwards.
    expect(await env.bash('local:wild', 'echo recovered')).toContain('recovered');
  });
});
