// The rules that keep the core small are enforced by the linter, not by review: the core never imports a
// plugin, a plugin never imports another, and inside the core a folder never imports one above it (so no two
// folders can depend on each other). Each case is linted as if the file were in the tree.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, test } from 'vitest';

const eslint = new ESLint({ cwd: path.resolve(import.meta.dirname, '../..') });

async function problems(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.resolve(import.meta.dirname, '../..', file) });
  return r!.messages.filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message);
}

describe('the linter refuses', () => {
  test('the core importing a plugin', async () => {
    expect(
      await problems('src/core/agent/x.ts', "export { telegram } from '../../plugins/telegram/index.js';\n"),
    ).toEqual([expect.stringContaining('src/core/agent comes before these')]);
  });

  test('a plugin importing another plugin', async () => {
    expect(await problems('src/plugins/forget/x.ts', "export { pairing } from '../pairing/index.js';\n")).toEqual([
      expect.stringContaining('plugins/forget may not import another plugin'),
    ]);
  });

  test('a core folder importing one above it (the way a cycle between folders starts)', async () => {
    expect(await problems('src/core/queue/x.ts', "export { startAgent } from '../agent/agent.js';\n")).toEqual([
      expect.stringContaining('src/core/queue comes before these'),
    ]);
  });

  test('and allows a plugin to import the core', async () => {
    expect(await problems('src/plugins/forget/x.ts', "export { tool } from '../../core/tools/registry.js';\n")).toEqual(
      [],
    );
  });
});
