// Type-aware lint, zero warnings (npm run lint). Floating promises and
// non-exhaustive switches are the bugs a queue service cannot afford.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Only repositories, migrations, the database plumbing, tests and benchmarks
 * hold SQL: everywhere else a query is a call into a `*.repository.ts`.
 * Syntax only (no type information), so it also runs on its own and fast:
 * `npm run check:layers` runs it through scripts/eslint.queries.config.mjs
 * beside scripts/check-layers.mjs (cycles and layers).
 */
export const QUERY_HOMES = ['**/*.repository.ts', 'sql/**', 'services/db/**', 'test/**', 'bench/**'];
const KYSELY_BUILDERS =
  'selectFrom|selectNoFrom|insertInto|replaceInto|updateTable|deleteFrom|mergeInto|executeQuery|createTable|alterTable|dropTable|createIndex|dropIndex|createView|dropView|createType|dropType|createSchema|dropSchema';
export const queryPlacement = {
  files: ['**/*.ts', '**/*.mts', '**/*.mjs'],
  ignores: QUERY_HOMES,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [
          { name: 'kysely', importNames: ['sql'], message: "raw SQL belongs in a *.repository.ts (or sql/, services/db/)" },
          { name: 'pg-copy-streams', message: 'COPY belongs in a *.repository.ts or services/db/' },
          { name: 'pg-cursor', message: 'cursors over SQL belong in a *.repository.ts or services/db/' },
        ],
      },
    ],
    'no-restricted-syntax': [
      'error',
      {
        selector: `CallExpression[callee.type='MemberExpression'][callee.property.name=/^(${KYSELY_BUILDERS})$/]`,
        message: 'a query is built here: move it into a *.repository.ts',
      },
      {
        // db.with('name', (qb) => …) / withRecursive: a common table expression.
        selector:
          "CallExpression[callee.type='MemberExpression'][callee.property.name=/^with(Recursive)?$/][arguments.1.type=/^(ArrowFunctionExpression|FunctionExpression)$/]",
        message: 'a query is built here (WITH): move it into a *.repository.ts',
      },
      {
        // pool.query('…'), client.query(`…`), x.query(copyFrom('COPY …')): raw SQL through pg.
        selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='query'][arguments.0.type=/^(Literal|TemplateLiteral)$/]",
        message: 'raw SQL runs here: move it into a *.repository.ts (or services/db/)',
      },
      {
        selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='query'] > CallExpression.arguments[callee.name=/^copy(From|To)$/]",
        message: 'COPY runs here: move it into a *.repository.ts (or services/db/)',
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'outbox/**', 'coverage/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['bin/**', 'scripts/**', 'eslint.config.mjs', 'vitest.config.ts'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { process: 'readonly' } },
  },
  {
    // The console's page script runs in the browser, as a classic script: no type information, the browser's globals.
    files: ['services/console/static/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly' },
    },
  },
  {
    // The CLI and the benchmarks talk to a person on stdout.
    files: ['workers/cli/**', 'bench/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
);
