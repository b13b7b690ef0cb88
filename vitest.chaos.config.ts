import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/chaos/**/*.test.ts'], testTimeout: 900_000, hookTimeout: 120_000, fileParallelism: false },
});
