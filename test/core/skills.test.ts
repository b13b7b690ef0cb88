// The Claude Code skills and CLAUDE.md are instructions someone follows to the letter:
// every command, npm script and project file they name must exist, or the skill
// sends its reader into a dead end.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const skillsDir = path.join(root, '.claude/skills');
const REQUIRED = ['setup', 'customize', 'debug', 'add-plugin'];

const docs = (): { name: string; text: string }[] => [
  { name: 'CLAUDE.md', text: fs.readFileSync(path.join(root, 'CLAUDE.md'), 'utf8') },
  ...fs.readdirSync(skillsDir).map((d) => ({
    name: `.claude/skills/${d}/SKILL.md`,
    text: fs.readFileSync(path.join(skillsDir, d, 'SKILL.md'), 'utf8'),
  })),
];

// Built by `tsc` before the tests run (npm test), so the list is the CLI's own.
const cliHelp = execFileSync(process.execPath, [path.join(root, 'dist/src/cli.js'), '--help'], { encoding: 'utf8' });
const cliCommands = new Set([...cliHelp.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]));
const scripts = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;

/** Project paths named in backticks: those starting at a folder of the repository, or a root file. */
function namedPaths(text: string): string[] {
  const inTicks = [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]);
  return inTicks.filter(
    (p) => /^(src|runner|test|container|scripts|bench|\.ci|\.claude)\//.test(p) || /^[A-Z]+\.md$/.test(p),
  );
}

/** The part of a path before its first placeholder (`src/channels/<name>/plugin.ts` → `src/channels/`). */
const concrete = (p: string) => p.split(/<[^>]+>/)[0];

describe('Claude Code skills', () => {
  test('setup, customize, debug and add-plugin each say what they are for', () => {
    for (const name of REQUIRED) {
      const file = path.join(skillsDir, name, 'SKILL.md');
      expect(fs.existsSync(file), `${file} is missing`).toBe(true);
      const front = fs.readFileSync(file, 'utf8').match(/^---\n([\s\S]*?)\n---\n/);
      expect(front, `${name}: no front matter`).not.toBeNull();
      expect(front![1]).toMatch(new RegExp(`^name: ${name}$`, 'm'));
      expect(front![1]).toMatch(/^description: .{20,}$/m);
    }
  });

  test('every nanoclaw command a skill names is one the CLI has', () => {
    const missing: string[] = [];
    for (const { name, text } of docs())
      for (const m of text.matchAll(/\bnanoclaw ([a-z][a-z-]*)/g))
        if (!cliCommands.has(m[1])) missing.push(`${name}: nanoclaw ${m[1]}`);
    expect(cliCommands.size).toBeGreaterThan(5);
    expect(missing).toEqual([]);
  });

  test('every npm script a skill names exists', () => {
    const missing: string[] = [];
    for (const { name, text } of docs())
      for (const m of text.matchAll(/\bnpm (?:run )?([a-z][a-z:-]*)/g)) {
        const s = m[1];
        if (['ci', 'install', 'link', 'run'].includes(s)) continue;
        if (!scripts[s]) missing.push(`${name}: npm ${s}`);
      }
    expect(missing).toEqual([]);
  });

  test('every project file or folder a skill names exists', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const { name, text } of docs())
      for (const p of namedPaths(text)) {
        checked++;
        if (!fs.existsSync(path.join(root, concrete(p)))) missing.push(`${name}: ${p}`);
      }
    expect(checked).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });
});
