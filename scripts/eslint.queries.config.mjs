// Where SQL may live (npm run check:layers): the `queryPlacement` rules of
// eslint.config.mjs alone, on syntax only, so this pass takes seconds and
// does not repeat the type-aware lint.
import tseslint from 'typescript-eslint';
import { queryPlacement } from '../eslint.config.mjs';

export default [
  { ignores: ['node_modules/**', 'data/**', 'outbox/**', 'coverage/**', 'tmp/**'] },
  { files: ['**/*.ts', '**/*.mts'], languageOptions: { parser: tseslint.parser } },
  { linterOptions: { reportUnusedDisableDirectives: 'off' } },
  queryPlacement,
];
