// Lint: typescript-eslint's recommended rules, no import cycles, and nothing
// that fights Prettier (which owns formatting).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import fs from 'node:fs';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The parts of the code, lowest first. A part may import from the parts before it, never from one after it,
// so no two folders can depend on each other: a reader can take them in this order.
const LAYERS = [
  ['runner'],
  ['src/core/types.ts', 'src/core/secrets.ts'],
  ['src/core/logger.ts'],
  ['src/core/config'],
  ['src/core/store'],
  ['src/core/conversation'],
  ['src/core/ask.ts'],
  ['src/core/queue'],
  ['src/core/sandbox'],
  ['src/core/gateway'],
  ['src/core/agent'],
  ['src/core/groups'],
  ['src/core/tools'],
  ['src/core/delivery'],
  ['src/core/channels'],
  ['src/core/inbound'],
  ['src/core/api'],
  ['src/core/status.ts'],
  ['src/core/plugin.ts'],
  ['src/core/host.ts'],
  ['src/kit'],
  ['src/plugins'],
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

// A plugin imports the core and nothing of another plugin: each folder can be deleted with its line in
// src/plugins/index.ts and nothing else breaks.
const PLUGINS = fs
  .readdirSync('src/plugins', { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);
const pluginZones = PLUGINS.map((name) => ({
  target: `./src/plugins/${name}`,
  from: PLUGINS.filter((other) => other !== name).map((other) => `./src/plugins/${other}`),
  message: `plugins/${name} may not import another plugin: move what both need into src/core/ (or src/kit/ for what plugins share).`,
}));

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
      'import-x/no-restricted-paths': ['error', { zones: [...layerZones, ...pluginZones] }],
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
    ignores: ['src/core/api/**', 'src/plugins/dashboard/**', 'src/cli/**', 'src/cli.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  { files: ['src/plugins/dashboard/public/**/*.js'], languageOptions: { globals: globals.browser } },
  prettier,
);
