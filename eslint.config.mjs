/**
 * ESLint (flat config): rules that catch bugs, not taste. Formatting is
 * Prettier's (.prettierrc.json); eslint-config-prettier, last, turns off every
 * rule that would disagree with it.
 *
 * TypeScript is linted with type information, each file against the program it
 * really compiles in: the Node packages' own tsconfigs, the browser client's
 * page code (DOM lib) and Service Worker code (WebWorker lib) against
 * tsconfig.page.json / tsconfig.sw.json, and tests, test helpers and benches
 * against tsconfig.eslint.json (jest's `@wingman/<pkg>` → packages/<pkg>/src
 * mapping, DOM for code passed to page.evaluate). Plain JavaScript (scripts,
 * build files, the inspector's page script) gets the untyped rules.
 */
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * no-unnecessary-type-assertion without its non-null half: with
 * noUncheckedIndexedAccess off, `arr[i]!` is "unnecessary" to the compiler but
 * says on purpose that the index exists. The `as` half stays: a cast that no
 * longer changes the type silently hides the next change of that type.
 */
const assertionRule = tseslint.plugin.rules['no-unnecessary-type-assertion'];
const local = {
  rules: {
    'no-unnecessary-as': {
      ...assertionRule,
      create(context) {
        const { TSNonNullExpression: _nonNull, ...listeners } = assertionRule.create(context);
        return listeners;
      },
    },
  },
};

const unusedVars = { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true };

export default defineConfig(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '.lab/**', 'packages/wingman-tunnel/assets/**'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  js.configs.recommended,
  {
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-template-curly-in-string': 'error',
      'no-self-compare': 'error',
      'no-unreachable-loop': 'error',
      'array-callback-return': 'error',
      'no-unused-vars': ['error', unusedVars],
      // Validators reject control characters on purpose (header values, cookie names).
      'no-control-regex': 'off',
      // `/00000000  [0-9a-f]{2}/` reads like the hex dump it matches.
      'no-regex-spaces': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs', 'jest.config.js'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    // Runs in a browser: the inspector's page, and the lab's functions passed to page.evaluate.
    files: [
      'packages/relay-server/assets/**/*.js',
      'scripts/lab/in-page.mjs',
      'scripts/lab/reviewer.mjs',
      'scripts/lab/bulk-floor/in-page.mjs',
      'scripts/lab/setup-race/in-page.mjs',
    ],
    languageOptions: { globals: globals.browser },
  },

  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    plugins: { local },
    languageOptions: {
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Kept from recommendedTypeChecked (the bug catchers): no-floating-promises,
      // no-misused-promises, await-thenable, no-base-to-string, only-throw-error,
      // no-for-in-array, no-implied-eval, no-array-delete, restrict-plus-operands, ...
      '@typescript-eslint/no-base-to-string': [
        'error',
        // ws hands text messages over as a Buffer; its RawData type also names ArrayBuffer.
        { ignoredTypeNames: ['Error', 'RegExp', 'URL', 'URLSearchParams', 'ArrayBuffer'] },
      ],
      // `reject(e)` passing on a caught reason is fine; a literal is not.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-unused-vars': ['error', unusedVars],
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      'local/no-unnecessary-as': 'error',
      // Added: a switch over a union that misses a member (a new frame type, message type, state).
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Added: `return promise` inside try skips the catch/finally.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // Added: Node and DOM APIs marked @deprecated.
      '@typescript-eslint/no-deprecated': 'error',

      // Off: untyped JSON from the wire and from tests is validated by hand at the
      // boundary (house style); these rules flag every access to it.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Off: objects built by createXxx() factories hold arrow functions typed as
      // interface methods; the rule cannot tell them from class methods.
      '@typescript-eslint/unbound-method': 'off',
      // Off, taste: `async` without `await` (returns a promise on purpose), types
      // like `ErrorCode | string`; no-base-to-string already catches `${object}`.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      // Off, taste: `let x!: T` declared before the closures that use it, assigned once later.
      'prefer-const': 'off',
    },
  },
  {
    // Shipped code stays free of `any` (tests may use it).
    files: ['packages/*/src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    files: ['packages/browser-client/src/{page,shim,shared}/**/*.ts'],
    languageOptions: { parserOptions: { project: './packages/browser-client/tsconfig.page.json' } },
  },
  {
    files: ['packages/browser-client/src/sw/**/*.ts'],
    languageOptions: { parserOptions: { project: './packages/browser-client/tsconfig.sw.json' } },
  },
  {
    // Newer than the browsers that get the shell: src/shared/baseline.ts has both.
    files: ['packages/browser-client/src/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'URL', property: 'parse', message: 'Safari 18+: use parseUrl (shared/baseline.ts).' },
        { object: 'AbortSignal', property: 'any', message: 'Safari 17.4+: use anySignal (shared/baseline.ts).' },
      ],
    },
  },

  prettier,
);
