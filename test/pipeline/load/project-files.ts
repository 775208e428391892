import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { throwawayDir } from '../../helpers/temp.js';

/** Writes a throwaway project: file path (project-relative) → text. Returns its directory. */
export function writeProject(files: Record<string, string>): string {
  const dir = throwawayDir('kiln-load-');
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

export const MINIMAL_CONF = 'name: test\nelement-path: elements\n';
