// Lint: typescript-eslint's recommended rules, no import cycles, and nothing
// that fights Prettier (which owns formatting).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The parts of the code, lowest first. A part may import from the parts before it, never from one after it,
// so no two folders can depend on each other: a reader can take them in this order.
const LAYERS = [
  ['runner'],
  ['src/types.ts', 'src/secrets.ts', 'src/term.ts'],
  ['src/logger.ts'],
  ['src/config'],
  ['src/store'],
  ['src/conversation'],
  ['src/queue'],
  ['src/sandbox'],
  ['src/gateway'],
  ['src/memory'],
  ['src/approvals'],
  ['src/agent'],
  ['src/scheduler'],
  ['src/groups'],
  ['src/tools'],
  ['src/outbox'],
  ['src/channels'],
  ['src/media'],
  ['src/inbound'],
  ['src/web'],
  ['src/host.ts', 'src/host-types.ts'],
  ['src/cli', 'src/cli.ts'],
];
const layerZones = LAYERS.slice(0, -1).flatMap((layer, i) =>
  layer.map((target) => ({
    target: `./${target}`,
    from: LAYERS.slice(i + 1)
      .flat()
      .map((p) => `./${p}`),
    message: `${target} comes before these in the layers of eslint.config.js: move the shared piece down instead.`,
  })),
);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**', 'data/**', 'store/**', 'groups/**', 'logs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  importX.flatConfigs.typescript,
  {
    languageOptions: { globals: globals.node },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      // Control characters in patterns are deliberate: that is how they are stripped from names and output.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  // Wire data (model streams, JSON files, recorded requests) is read loosely and checked field by field;
  // the local API's answers are typed end to end, so the web and CLI code may not use `any`.
  {
    files: ['**/*.ts'],
    ignores: ['src/web/**', 'src/cli/**', 'src/cli.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  { files: ['src/web/dashboard/public/**/*.js'], languageOptions: { globals: globals.browser } },
  prettier,
);
