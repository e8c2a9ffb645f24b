// ESLint (flat config): the recommended rules of ESLint and typescript-eslint, plus
// no-floating-promises with type information (a promise nobody awaits loses its error).
// `npm run lint`; part of `npm test`. A disable comment names its rule and says why after `--`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node's globals, for the few plain-JavaScript build scripts (the TypeScript checker knows them). */
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', '__dirname', '__filename', 'require', 'module'].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/', 'out/', '**/node_modules/', '.venv/', '.cache/', 'test-output/', 'native/build/', 'native/.deps/', 'tools/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `{ samples: _samples, ...rest }` drops a property on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] }],
    },
  },
  { files: ['**/*.{js,mjs,cjs}'], languageOptions: { globals: nodeGlobals } },
  // Plain CommonJS scripts (run where only Node and the bundle exist, e.g. the GPU machine).
  { files: ['**/*.js', '**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
