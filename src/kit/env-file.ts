// Writes settings into the home's `.env`, keeping other lines; mode 0600 from the start (it holds credentials).
import fs from 'node:fs';
import path from 'node:path';
import { registerSecretSettings } from '../core/secrets.js';

function quote(value: string) {
  if (/[\r\n]/.test(value)) throw new Error('A value in .env must be on one line.');
  return /^[A-Za-z0-9_\-.:/+=@]*$/.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function setEnvValues(home: string, values: Record<string, string | null>): string {
  registerSecretSettings(values);
  const file = path.join(home, '.env');
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (lines.at(-1) === '') lines.pop();
  const pending = new Map(Object.entries(values));
  const out: string[] = [];
  const put = (key: string, v: string | null) => v === null || out.push(`${key}=${quote(v)}`);
  for (const line of lines) {
    const key = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
    if (!key || !pending.has(key)) out.push(line);
    else {
      put(key, pending.get(key)!);
      pending.delete(key);
    }
  }
  for (const [key, v] of pending) put(key, v);
  fs.mkdirSync(home, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, out.join('\n') + '\n', { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
  return file;
}
