import { statSync } from 'node:fs';
import { KilnError } from '../errors.js';
import type { OwnerPolicy } from '../fs/tree-from-tar.js';
import type { FileTree } from '../fs/tree.js';

/** SOURCE_DATE_EPOCH from the environment, for writers that clamp timestamps to it. */
export function sourceDateEpochFromEnv(): number | undefined {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new KilnError('bad-env', `SOURCE_DATE_EPOCH='${v}' is not a number of seconds`, 'set it to a non-negative integer, or unset it');
  return Number(v);
}

export function positiveInt(v: string, what: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new KilnError('bad-option', `${what} must be a positive integer, not '${v}'`);
  return Number(v);
}

/**
 * Runs `fn` on the tree of a directory or a tar archive, and frees what reading the archive
 * spooled afterwards. The readers load lazily so that `kiln --help` stays fast.
 */
export async function withSourceTree<T>(source: { dir?: string; tar?: string }, owners: OwnerPolicy, fn: (tree: FileTree) => Promise<T>): Promise<T> {
  if (source.tar !== undefined) {
    const { treeFromTar } = await import('../fs/tree-from-tar.js');
    const t = await treeFromTar(source.tar, { owners });
    try {
      return await fn(t.tree);
    } finally {
      t.dispose();
    }
  }
  if (source.dir === undefined) throw new KilnError('bad-usage', 'no source given', 'name a source directory, or an archive with --from-tar');
  const { treeFromDirectory } = await import('../fs/tree-from-dir.js');
  return fn(treeFromDirectory(source.dir, { owners }));
}

/**
 * `kiln mkfs TYPE SRC OUT` or `kiln mkfs TYPE --from-tar FILE OUT`: which positional is which.
 * The output must not be an existing directory.
 */
export function sourceAndOutput(type: string, first: string, second: string | undefined, fromTar: string | undefined): { src?: string; out: string } {
  let result: { src?: string; out: string };
  if (fromTar !== undefined) {
    if (second !== undefined) throw new KilnError('bad-args', 'give either a source directory or --from-tar, not both', `kiln mkfs ${type} --from-tar ROOT.tar OUT.img`);
    result = { out: first };
  } else {
    if (second === undefined) throw new KilnError('bad-args', 'missing the output file', `kiln mkfs ${type} SRC OUT.img`);
    result = { src: first, out: second };
  }
  let outIsDir = false;
  try {
    outIsDir = statSync(result.out).isDirectory();
  } catch {
    // does not exist yet: fine
  }
  if (outIsDir) throw new KilnError('bad-output', `output '${result.out}' is a directory`, 'name the image file to write, e.g. rootfs.img');
  return result;
}
