import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'data/**'],
    // Each file gets its own database cloned from a migrated template (test/harness).
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // In CI a JSON report too, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: 'tmp/vitest-report.json' }]] : ['default'],
    maxWorkers: 2,
  },
});
