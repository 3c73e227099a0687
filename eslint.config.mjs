// The linter holds the layout's boundaries (DESIGN.md §6, README "How it works"): rules in the config, not in a
// reviewer's memory. `npm run lint` runs it with the formatter check; .ci/run runs it before the tests.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Package names (exact) and their subpaths (patterns); relative paths are matched as patterns below.
const sdk = { names: ['aws-cdk-lib', 'constructs', 'cdk-nag'], patterns: ['@aws-sdk/*', '@smithy/*', 'aws-cdk-lib/*'] };
const servers = { names: ['hono', 'node:http', 'node:https', 'http', 'https', 'node:net'], patterns: ['hono/*', '@hono/*'] };
const disk = { names: ['node:fs', 'fs', 'better-sqlite3', 'node:child_process', 'child_process'], patterns: ['node:fs/*', 'fs/*'] };
/** A rule forbidding relative `paths` (gitignore patterns) and `packages` (from the groups above), with one message each. */
function restrict(message, paths, ...packages) {
  const names = packages.flatMap((p) => p.names);
  const pkgPatterns = packages.flatMap((p) => p.patterns);
  return [
    'error',
    {
      paths: names.map((name) => ({ name, message })),
      patterns: [...(paths.length ? [{ group: paths, message }] : []), ...(pkgPatterns.length ? [{ group: pkgPatterns, message }] : [])],
    },
  ];
}
const pureTime = 'lib/core reads time from the Clock port and randomness from the Ids port (ctx.clock, ctx.ids).';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'cdk.out/**', 'coverage/**', '**/*.d.ts', 'test/power-loss/*.so'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.node },
    rules: {
      // Validated wire data and SDK shapes: `any` stays rare but is not banned outright.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Files stay small enough to read in one sitting (STYLE.md): about 300 lines in lib/ and lambda/.
  {
    files: ['lib/**/*.ts', 'lambda/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  // lib/core is pure: ports, protocol and itself only.
  {
    files: ['lib/core/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        'lib/core talks to ports only (lib/ports, lib/protocol): no adapter, http, client, CLI, CDK, SDK, server, file system or SQLite.',
        [
          '**/adapters/**',
          '**/adapters',
          '**/http/**',
          '**/client/**',
          '**/cli/**',
          '**/constructs/**',
          '../embedded',
          '../../embedded',
          '../config',
          '../../config',
          '**/lambda/**',
          '**/dev-log',
        ],
        sdk,
        servers,
        disk,
      ),
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: pureTime },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: pureTime },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: pureTime },
      ],
    },
  },
  // The wire contract depends on nothing: client, http and constructs share it.
  {
    files: ['lib/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        'lib/protocol is the v1 wire contract: it imports nothing outside itself.',
        ['../*', '../**'],
        sdk,
        servers,
        disk,
      ),
    },
  },
  // The client runs in services, Lambdas and browsers: the wire contract and itself, nothing heavy.
  {
    files: ['lib/client/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        'lib/client imports only lib/protocol and its own files (no core, adapter, server, CDK, SDK, file system or SQLite).',
        [
          '../core/**',
          '../adapters/**',
          '../http/**',
          '../cli/**',
          '../constructs/**',
          '../ports/**',
          '../embedded',
          '../config',
          '../../*',
        ],
        sdk,
        servers,
        disk,
      ),
    },
  },
  // The two homes never import each other (shared code sits beside them: lib/adapters/system.ts).
  {
    files: ['lib/adapters/local/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict('the local home never imports the AWS home.', [
        '../aws/*',
        '../aws',
        '**/adapters/aws/**',
        '@aws-sdk/*',
      ]),
    },
  },
  {
    files: ['lib/adapters/aws/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        'the AWS home never imports the local home, the file system or SQLite.',
        ['../local/*', '../local', '**/adapters/local/**'],
        disk,
      ),
    },
  },
  // Ports are interfaces (and the small pure helpers of their contract).
  {
    files: ['lib/ports/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        'lib/ports declares contracts: no implementations.',
        ['**/adapters/**', '**/http/**', '**/client/**', '**/constructs/**', '**/cli/**'],
        sdk,
        servers,
        disk,
      ),
    },
  },
  // Lambda entries stay thin: glue from an event to lib/, nothing else.
  {
    files: ['lambda/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 120, skipBlankLines: true, skipComments: true }] },
  },
);
