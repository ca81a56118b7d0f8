// @ts-check
/**
 * ESLint flat config: typescript-eslint's type-aware recommended rules on the TypeScript sources,
 * plain recommended rules on the JavaScript (bench scripts, configs, the demo page). Formatting is
 * Prettier's job (`npm run lint` runs `prettier --check` too), so no stylistic rules here.
 */
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'dist-sample/', 'dist-bench/', 'coverage/', 'bench/profiles/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    rules: {
      // Async methods without await are deliberate: they implement Promise-returning interfaces
      // (SessionRepository), where a sync throw must become a rejection.
      '@typescript-eslint/require-await': 'off',
      // `_` marks a value kept on purpose: an unused argument, or a field left out of a `...rest` copy.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['test/**', '**/*.spec.ts', '**/*.contract.ts'],
    rules: {
      // Tests read untyped HTTP bodies (supertest's `body` is `any`) and parsed JSON, and check
      // them with expect(): the assertion is the type check, a cast would only hide a mistake.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Helpers return objects of closures (`const { url, close } = await start()`), which the
      // rule cannot tell from class methods that need their `this`.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // The bench's servers import the built package (`dist/`), which a clean clone has not built
    // yet; `npm run bench` compiles them after the build, so tsc checks their types there.
    files: ['bench/servers/**'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['sample/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'script' },
  },
);
