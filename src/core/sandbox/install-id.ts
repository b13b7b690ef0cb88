// One id per home names what NanoClaw creates outside it, so two installs never touch each other's sandboxes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function installId(home: string): string {
  let real = path.resolve(home);
  try {
    real = fs.realpathSync(real);
  } catch {
    /* not created yet: the resolved path is what it will be */
  }
  return crypto.createHash('sha256').update(real).digest('hex').slice(0, 12);
}
