// ESLint flat config: type-aware typescript-eslint rules over src/, test/, bench/ and scripts/.
// Formatting is Prettier's job (eslint-config-prettier, last, turns off every rule it owns);
// the layer rules (which directory may import which) live in .dependency-cruiser.cjs.
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const ts = ['**/*.ts']

// Core is pure (ARCHITECTURE.md): the clock, randomness, the process and I/O are parameters.
const coreGlobals = [
  {name: 'process', message: 'src/core is pure: take what you need from process as a parameter'},
  {name: 'console', message: 'src/core is pure: return findings or notes instead of printing'},
  {name: 'fetch', message: 'src/core is pure: app reads through the ports'},
]
const coreSyntax = [
  {selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'src/core is pure: take the clock as a parameter'},
  {selector: "NewExpression[callee.name='Date']", message: 'src/core is pure: take the clock as a parameter'},
  {selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'src/core is pure: take randomness as a parameter'},
  {selector: 'AwaitExpression', message: 'src/core is pure: app awaits the ports and hands the core data'},
  {selector: 'ForOfStatement[await=true]', message: 'src/core is pure: app awaits the ports and hands the core data'},
  {
    selector: 'FunctionDeclaration[async=true], FunctionExpression[async=true], ArrowFunctionExpression[async=true]',
    message: 'src/core is pure: no async functions',
  },
  {selector: 'ImportExpression', message: 'src/core is pure: no dynamic import'},
  {
    selector: "MemberExpression[object.name='globalThis'][property.name=/^(process|console|fetch)$/]",
    message: 'src/core is pure: no process, console or network',
  },
]

export default tseslint.config(
  {ignores: ['dist/**', 'release/**', 'node_modules/**', '.bench/**', 'test/fixtures/**', 'test/golden/**', 'examples/**', 'coverage/**']},

  // Plain JavaScript (bin, bench, scripts, test helpers run as child processes): Node globals, no type information.
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: {globals: globals.node},
    rules: {
      'no-unused-vars': ['error', {argsIgnorePattern: '^_', caughtErrors: 'none'}],
    },
  },
  // esbuild's `define` replaces it when bundling (scripts/krew/bundle.js).
  {files: ['scripts/krew/entry.js', 'scripts/krew/version-entry.js'], languageOptions: {globals: {__SVCTRACE_PJSON__: 'readonly'}}},

  // TypeScript everywhere: recommended + type-checked.
  {
    files: ts,
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {projectService: {allowDefaultProject: ['vitest.config.ts', 'vitest.fuzz.config.ts']}, tsconfigRootDir: import.meta.dirname},
    },
    rules: {
      // `typeof import('…')` stays allowed: it types a lazily loaded module next to its import().
      '@typescript-eslint/consistent-type-imports': ['error', {prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false}],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // tsc's noUnusedLocals/noUnusedParameters already report these, with the same `_` convention.
      '@typescript-eslint/no-unused-vars': 'off',
      // Port implementations are `async` to satisfy Promise-returning interfaces and to turn throws into rejections.
      '@typescript-eslint/require-await': 'off',
      // With noUncheckedIndexedAccess on it still reports 27 casts, and its autofix removes some that tsc needs
      // (literal tables typed as Query, client-node casts of parsed YAML): left off until those are typed another way.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // A variable a cleanup closure reads before the one assignment (fake-apiserver's `child`) cannot be const.
      'prefer-const': ['error', {ignoreReadBeforeAssign: true}],
    },
  },

  // src/core: pure, and no `!` (narrow or return a finding instead).
  {
    files: ['src/core/**/*.ts'],
    rules: {
      // noUncheckedIndexedAccess is on (issue 10): narrow, destructure with a default, or guard and throw.
      '@typescript-eslint/no-non-null-assertion': 'error',
      'no-restricted-globals': ['error', ...coreGlobals],
      'no-restricted-syntax': ['error', ...coreSyntax],
    },
  },

  // nft -j output is untyped JSON read through `type J = any` and checked piece by piece where it is read.
  {
    files: ['src/core/nftables/json.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },

  // Tests and their helpers poke at parsed JSON and third-party shapes on purpose.
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  prettier,
)
