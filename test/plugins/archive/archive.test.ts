// What the archive plugin brings into a sandbox; that the archive is written there is in test/e2e/memory-e2e.test.ts.
import fs from 'node:fs';
import { expect, test } from 'vitest';
import type { PluginCore, PluginParts } from '../../../src/core/plugin.js';
import type { SandboxStart } from '../../../src/core/sandbox/parts.js';
import { archive } from '../../../src/plugins/archive/index.js';

test('a sandbox gets the built archive module alone, read-only, where the runner loads plugin hooks', async () => {
  const parts = (await archive.setup!({} as PluginCore)) as PluginParts;
  const { mounts = [], env } = parts.sandbox!({} as SandboxStart) ?? {};
  expect(env).toBeUndefined();
  expect(mounts).toEqual([
    {
      hostPath: expect.stringMatching(/\/dist\/src\/plugins\/archive\/runner\.js$/),
      containerPath: '/app/plugins/archive.js',
      readonly: true,
    },
  ]);
  // Mounted alone, it can import only what every sandbox has: node's built-ins.
  const imports = [...fs.readFileSync(mounts[0].hostPath, 'utf8').matchAll(/^import .* from '([^']+)'/gm)];
  expect(imports.map((m) => m[1])).toEqual(['node:fs']);
});
