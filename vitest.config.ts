import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    // Builds the Go helpers on Helm's own modules (cached) for the differential tests.
    globalSetup: ['test/helm-diff/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
