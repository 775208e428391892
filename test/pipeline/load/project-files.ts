import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new directory in the temp directory, removed when the test process exits. */
export function throwawayDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

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
