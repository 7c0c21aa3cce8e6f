// ESLint 10 flat config. TypeScript sources get typescript-eslint's type-checked rules, with
// types from tsconfig.json through the project service (the same program `tsc` checks).
// Promise misuse is an error: in an event-loop daemon a dropped rejection is a lost failure.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['node_modules/', '.lab/', '.cache/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: globals.node,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Lines of at most 120 columns (scripts/wrap-long-lines.ts wraps them mechanically).
    files: ['src/**/*.ts'],
    rules: {
      'max-len': ['error', { code: 120, tabWidth: 2 }],
    },
  },
  {
    // The worker's code never reaches into the supervisor: what both sides share is src/ipc/.
    files: ['src/proxy/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/supervisor/*'], message: 'src/proxy must not import src/supervisor: shared types and helpers live in src/ipc/.' }],
      }],
    },
  },
  {
    // Plain JavaScript (this file, helpers) is outside tsconfig.json: lint it without types.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
