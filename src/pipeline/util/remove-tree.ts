import { chmodSync, lstatSync, readdirSync, renameSync, rmdirSync, rmSync, unlinkSync, type Stats } from 'node:fs';
import { KilnError } from '../../errors.js';
import { showHost } from '../../fs/host-path.js';

/**
 * Paths longer than this (in bytes) are not used: a directory that deep is first moved up to
 * the top of the tree being removed, so every path handed to the kernel stays far below
 * PATH_MAX (4096) however deep a build nested its directories.
 */
const DEEP = 2048;

const SLASH = Buffer.from('/');

function lstat(path: string | Buffer): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Gives the owner rwx on a directory (a build may leave 000 or 0555 directories). */
function openUp(path: string | Buffer, st: Stats | undefined): void {
  if (!st || (st.mode & 0o700) === 0o700) return;
  try {
    chmodSync(path, (st.mode & 0o7777) | 0o700);
  } catch {
    // not ours: removing its entries reports the problem
  }
}

/**
 * Removes a scratch tree of any shape a build can leave: directories nested beyond PATH_MAX,
 * directories without permissions (000, 0555), read-only files, names that are not UTF-8.
 * Node's rmSync removes the common tree; what it leaves, this walks itself (no recursion, so
 * depth does not matter), making directories writable as it enters them, and moving
 * directories that sit too deep for a path up to the top of the tree before going on. Its
 * paths are bytes, as the kernel takes them (a name decoded as UTF-8 would not name its
 * entry). Everything that can be removed is; if something cannot (another user's files,
 * immutable files), a KilnError names it. In util/, the pipeline's ground floor, because the
 * sessions, the patch source, the artifact cache and the CLI all remove scratch trees.
 */
export function removeTree(path: string): void {
  try {
    // The common case (no odd modes, no deep nesting) in one native call
    rmSync(path, { recursive: true, force: true });
    return;
  } catch {
    // fall through: the careful walk finishes whatever is left
  }
  const top = lstat(path);
  if (!top) return;
  if (!top.isDirectory()) {
    unlinkSync(path);
    return;
  }
  const failures: string[] = [];
  const note = (where: Buffer, e: unknown): void => {
    const p = showHost(where); // bytes that are not UTF-8 as \xNN
    if (failures.length < 5) failures.push(`${p.length > 200 ? `${p.slice(0, 80)}…${p.slice(-100)}` : p}: ${(e as Error).message.replace(/, \w+ '.*$/, '')}`);
  };
  const root = Buffer.from(path);
  openUp(path, top);
  let moved = 0;
  const relocated: Buffer[] = [];
  /** Empties `dir` (a directory whose path is short enough); deep subdirectories go to `relocated`. */
  const empty = (dir: Buffer): void => {
    const stack: { path: Buffer; names?: Buffer[] }[] = [{ path: dir }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      if (!frame.names) {
        openUp(frame.path, lstat(frame.path));
        try {
          frame.names = readdirSync(frame.path, { encoding: 'buffer' });
        } catch (e) {
          note(frame.path, e);
          frame.names = [];
        }
      }
      const name = frame.names.pop();
      if (name === undefined) {
        stack.pop();
        if (stack.length > 0) {
          try {
            rmdirSync(frame.path);
          } catch (e) {
            note(frame.path, e);
          }
        }
        continue;
      }
      const child = Buffer.concat([frame.path, SLASH, name]);
      const st = lstat(child);
      if (!st) continue;
      if (!st.isDirectory()) {
        try {
          unlinkSync(child);
        } catch (e) {
          note(child, e);
        }
        continue;
      }
      if (child.length > DEEP) {
        // Too deep to name: move it to the top of the tree and empty it from there later.
        // (Moving a directory to another parent needs write permission on it, for its '..'.)
        openUp(child, st);
        let target: Buffer;
        do target = Buffer.from(`${path}/.kiln-deep-${moved++}`);
        while (lstat(target));
        try {
          renameSync(child, target);
          relocated.push(target);
        } catch (e) {
          note(child, e);
        }
        continue;
      }
      stack.push({ path: child });
    }
  };
  empty(root);
  while (relocated.length > 0) {
    const dir = relocated.pop()!;
    empty(dir);
    try {
      rmdirSync(dir);
    } catch (e) {
      note(dir, e);
    }
  }
  try {
    rmdirSync(path);
  } catch (e) {
    if (lstat(path)) note(root, e);
  }
  if (failures.length > 0 && lstat(path)) {
    throw new KilnError(
      'remove-failed',
      `cannot remove '${path}':\n  ${failures.join('\n  ')}`,
      'remove it by hand (it may hold files of another user, or immutable files: lsattr, chattr -i)',
    );
  }
}
