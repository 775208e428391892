import { chmodSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Removes a scratch tree even when a build left read-only directories in it (a non-root user
 * cannot delete entries of a 0555 directory): on failure, make every directory writable and retry.
 */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch {
    // fall through
  }
  const fix = (p: string): void => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (!st.isDirectory()) return;
    try {
      chmodSync(p, 0o700);
    } catch {
      // not ours: rm will report it
    }
    for (const name of readdirSync(p)) fix(join(p, name));
  };
  fix(path);
  rmSync(path, { recursive: true, force: true });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
