import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // unit: no host, no sandbox; e2e: a real host, sandbox, CLI process or browser; isolation: the sandbox itself.
    include: [
      'test/core/**/*.test.ts',
      'test/plugins/**/*.test.ts',
      'test/e2e/**/*.test.ts',
      'test/isolation/**/*.test.ts',
    ],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Agent tests start real sandboxes; two cores do not like many at once.
    fileParallelism: false,
  },
});
