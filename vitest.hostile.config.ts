import { defineConfig } from 'vitest/config';

// npm run test:hostile: attacks on every door the host has; prints the case count.
export default defineConfig({
  test: {
    include: ['test/hostile/**/*.test.ts'],
    globalSetup: ['test/hostile/count-total.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
