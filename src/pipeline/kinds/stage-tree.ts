import { KilnError } from '../../errors.js';
import { FileTree, baseName, normalizePath, parentOf } from '../../fs/tree.js';
import { copyDirInode } from './split-rules.js';

/**
 * Staging one artifact over others, as a tree operation (docs/format.md#staging-and-integration):
 * the combined tree is built in memory and then materialized once, so a sandbox root is always
 * a private copy and the rules below are testable without a disk.
 * - Paths go *through* directory symlinks already in the destination, resolved inside it.
 * - A non-directory replaces an existing file or symlink: an overlap (unless whitelisted).
 * - A non-directory that would replace a non-empty directory is skipped ("ignored").
 * - A directory takes the metadata of the later element.
 */

export interface StageReport {
  /** Destination paths a later element overwrote without being whitelisted. */
  overlaps: string[];
  /** Source paths skipped because a non-empty directory is in the way. */
  ignored: string[];
}

const MAX_LINKS = 40;

/**
 * Resolves `path` inside `tree` following symlinks in every component (absolute targets are
 * relative to the tree's root; `..` stops at the root). Returns the real path, or undefined if
 * a component is missing; the last component is followed only if `followLast`.
 */
export function resolveInTree(tree: FileTree, path: string, followLast = true): string | undefined {
  let pending = normalizePathLoose(path);
  let real: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      real.pop();
      continue;
    }
    const candidate = [...real, part].join('/');
    const inode = tree.get(candidate);
    if (!inode) return undefined;
    if (inode.type === 'symlink' && (pending.length > 0 || followLast)) {
      if (++links > MAX_LINKS) return undefined;
      const target = inode.target ?? '';
      if (target.startsWith('/')) real = [];
      pending = [...normalizePathLoose(target), ...pending];
      continue;
    }
    real.push(part);
  }
  return real.join('/');
}

/** Splits a path into components, dropping '' and '.', keeping '..' for the resolver. */
function normalizePathLoose(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

function join2(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** mkdir -p of `at` inside `dest`, following symlinked directories; returns the real path. */
function ensureDir(dest: FileTree, at: string): string {
  let real = '';
  for (const part of normalizePath(at).split('/').filter(Boolean)) {
    const next = join2(real, part);
    const inode = dest.get(next);
    if (!inode) {
      dest.mkdir(next);
      real = next;
    } else if (inode.type === 'dir') real = next;
    else if (inode.type === 'symlink') {
      const resolved = resolveInTree(dest, next);
      if (resolved === undefined || dest.get(resolved)?.type !== 'dir') {
        throw new KilnError('stage-not-dir', `cannot stage at '/${at}': '/${next}' is a symlink that does not lead to a directory`);
      }
      real = resolved;
    } else throw new KilnError('stage-not-dir', `cannot stage at '/${at}': '/${next}' is not a directory`);
  }
  return real;
}

/**
 * Stages `src` at directory `at` of `dest`. `whitelisted(path)` gets '/'+destination path and
 * says whether overwriting it is allowed silently.
 */
export function stageTree(dest: FileTree, src: FileTree, at = '/', whitelisted: (path: string) => boolean = () => false): StageReport {
  const report: StageReport = { overlaps: [], ignored: [] };
  const base = ensureDir(dest, at);
  // Source directory path → real destination directory (after following symlinks), or null if skipped.
  const dirs = new Map<string, string | null>([['', base]]);
  for (const [path, inode] of src.walk()) {
    if (path === '') continue;
    const parent = dirs.get(parentOf(path));
    if (parent === undefined || parent === null) {
      if (inode.type === 'dir') dirs.set(path, null);
      continue;
    }
    const target = join2(parent, baseName(path));
    const existing = dest.get(target);
    if (inode.type === 'dir') {
      if (existing?.type === 'dir') {
        dest.set(target, copyDirInode(inode));
        dirs.set(path, target);
      } else if (existing?.type === 'symlink') {
        const resolved = resolveInTree(dest, target);
        if (resolved !== undefined && dest.get(resolved)?.type === 'dir') dirs.set(path, resolved);
        else {
          dest.remove(target);
          dest.add(target, copyDirInode(inode));
          dirs.set(path, target);
        }
      } else {
        if (existing) dest.remove(target);
        dest.add(target, copyDirInode(inode));
        dirs.set(path, target);
      }
      continue;
    }
    if (existing?.type === 'dir') {
      if (dest.children(target).length > 0) {
        report.ignored.push(`/${path}`);
        continue;
      }
      dest.remove(target);
      dest.add(target, inode);
      continue;
    }
    if (existing) {
      if (!whitelisted(`/${target}`)) report.overlaps.push(`/${target}`);
      dest.set(target, inode);
    } else dest.add(target, inode);
  }
  return report;
}
