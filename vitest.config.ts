import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    // Builds the Go helpers on Helm's own modules (cached) for the differential tests.
    globalSetup: ['test/helm-diff/global-setup.ts'],
    // A safety net only: tests wait for events, and a loaded machine may take long to deliver them.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
