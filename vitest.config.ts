import { defineConfig } from 'vitest/config';

// Every test file starts its own daemon (own state folder, own port) with real
// sandboxes; two workers match the two cores CI has.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ['packages/daemon/src/testing/global-setup.ts'],
  },
});
