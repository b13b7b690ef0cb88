// The CLAUDE.md files a fresh home starts with: templates/*.md beside this file, `{{name}}` the assistant's name.
// The user edits the copies in the home freely afterwards (and these files, to change what new homes get).
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from './project-root.js';

const template = (file: string) => (name: string) =>
  fs
    .readFileSync(path.join(projectRoot(), 'src', 'core', 'config', 'templates', file), 'utf8')
    .replaceAll('{{name}}', name);

export const GLOBAL_TEMPLATE = template('global.md');
export const MAIN_TEMPLATE = template('main.md');
export const groupTemplate = template('group.md');
