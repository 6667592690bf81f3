import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'packages/*/dist/**',
      'node_modules/**',
      '.data/**',
      'coverage/**',
      'bench/results/**',
      'test/artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    // Promise mistakes the compiler cannot see: a promise nobody awaits, one passed where a callback's result is
    // ignored, an await on a value that is no promise. These rules need type information, so only TypeScript files.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // The dashboard's ES module runs in the browser.
    files: ['src/host/dashboard/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The host app is the module's first consumer: it uses the package entry only, as any other host would.
    files: ['src/host/**/*.ts', 'src/app.module.ts', 'src/main.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/prebuilds/*', '**/prebuilds/**', '!nest-prebuilds'],
              message: "import the prebuilds module from 'nest-prebuilds' (its package entry) only",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/prebuilds/state/**/*.ts'],
    rules: {
      // The state engine is pure: no framework, no ORM, no driver.
      'no-restricted-imports': ['error', { patterns: ['@nestjs/*', 'typeorm', 'typeorm/*', 'pg'] }],
    },
  },
  {
    files: ['src/prebuilds/cli/**/*.ts'],
    rules: {
      // The command-line tool starts fast and talks HTTP only: no framework, no ORM, nothing of the module.
      'no-restricted-imports': [
        'error',
        { patterns: ['@nestjs/*', 'typeorm', 'typeorm/*', 'pg', 'class-*', 'reflect-metadata', '../*'] },
      ],
    },
  },
);
