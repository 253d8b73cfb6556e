import { defineConfig } from 'vitest/config';

// End-to-end: one real API server for the run, files one after another (they share it).
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 900_000,
  },
});
