import { expect, test } from 'vitest';
import { loadConfig } from '../../src/core/config/config.js';
import { RUNTIME_NAMES } from '../../src/core/sandbox/runtimes.js';

test('NANOCLAW_RUNTIME takes exactly the names in the runtime registry', () => {
  expect(RUNTIME_NAMES).toEqual(['docker', 'podman', 'apple', 'bwrap']);
  for (const name of ['auto', ...RUNTIME_NAMES])
    expect(loadConfig({ NANOCLAW_HOME: '/nonexistent-nanoclaw-home', NANOCLAW_RUNTIME: name }).runtime).toBe(name);
  expect(() => loadConfig({ NANOCLAW_HOME: '/nonexistent-nanoclaw-home', NANOCLAW_RUNTIME: 'lxc' })).toThrow(
    'NANOCLAW_RUNTIME must be one of auto, docker, podman, apple, bwrap; got "lxc".',
  );
});
