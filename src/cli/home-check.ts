// Can this folder be NanoClaw's home? Said before anything is written, with what to do.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config/config.js';

// Creation is probed for real: permission bits lie for root and /proc.
function homeProblem(home: string): string | null {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(home, { throwIfNoEntry: false });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return `it cannot be read (${err.code})`;
  }
  if (st) {
    if (!st.isDirectory()) return 'it is a file, not a folder';
    try {
      fs.accessSync(home, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
      return null;
    } catch {
      return 'you cannot write in it';
    }
  }
  let parent = path.dirname(home);
  while (!fs.existsSync(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent);
  try {
    fs.rmdirSync(fs.mkdtempSync(path.join(parent, '.nanoclaw-probe-')));
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return `it does not exist and cannot be created: ${parent} does not allow new folders (${err.code ?? err.message})`;
  }
}

export function homeRefusal(config: Pick<Config, 'home'>, env: Record<string, string | undefined>): string | null {
  const problem = homeProblem(config.home);
  if (!problem) return null;
  const which = env.NANOCLAW_HOME
    ? `NANOCLAW_HOME=${env.NANOCLAW_HOME}`
    : `The current folder ${config.home} (the home when NANOCLAW_HOME is not set)`;
  return `${which} cannot be used as the NanoClaw home: ${problem}. Set NANOCLAW_HOME to a folder you own, e.g. NANOCLAW_HOME=~/nanoclaw.`;
}
