import { defineConfig } from 'vitest/config';

/**
 * Two projects, told apart by a test file's place and name:
 *
 * - `unit`: every `*.test.ts` beside the code it tests (config/, models/,
 *   services/, workers/). Pure: no PostgreSQL, Redis, SMTP or browser, and no
 *   global setup. `npm run test:unit` runs only these, in under 30 s.
 * - `integration`: every `*.test.ts` under test/, which get a database cloned
 *   from a migrated template (test/harness/global-setup.ts, test/harness/db.ts)
 *   and may use Redis, SMTP or spawn the CLI; and every `*.slow.test.ts`
 *   anywhere: pure tests that take seconds each (training a model, generating
 *   a province), kept out of the quick unit run.
 *
 * So: a test that needs a service goes under test/; a pure one goes beside its
 * code, named `*.slow.test.ts` if it takes more than a few seconds.
 * `npm test` runs both projects.
 */
const SLOW = '**/*.slow.test.ts';
const UNIT = ['config/**/*.test.ts', 'models/**/*.test.ts', 'services/**/*.test.ts', 'workers/**/*.test.ts'];
const INTEGRATION = ['test/**/*.test.ts', SLOW];
const EXCLUDE = ['node_modules/**', 'data/**'];

export default defineConfig({
  test: {
    exclude: EXCLUDE,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // In CI a JSON report too (both projects in one file), from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: 'tmp/vitest-report.json' }]] : ['default'],
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT, exclude: [...EXCLUDE, SLOW] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION,
          // Each file gets its own database cloned from a migrated template (test/harness).
          globalSetup: ['test/harness/global-setup.ts'],
        },
      },
    ],
  },
});
