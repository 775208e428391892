import { KilnError } from '../../errors.js';
import { printableName } from '../name-bytes.js';
import type { FileTree, Inode } from '../tree.js';
import { DIRENT_SIZE, LFN_CHARS } from './dirent.js';
import { ShortNameAllocator, caseFoldKey, checkLongName, exactShortName } from './names.js';

/**
 * The tree as FAT will hold it, independent of the volume size: every directory with its
 * entries in byte order, each entry's 8.3 name and whether it needs long-name entries (the
 * aliases of those that do are given by assignAliases, and the first clusters by writeFat's
 * allocation, when writing). Built (and everything FAT cannot hold refused) before any byte is
 * written.
 */

/** Largest file FAT can hold: the size field is 32 bits. */
export const MAX_FAT_FILE = 0xffffffff;

export interface FatEntry {
  name: string;
  path: string;
  inode: Inode;
  /** The 8.3 name as DIR_Name packs it: base padded to 8 characters, extension to 3 (an alias only after assignAliases). */
  short: string;
  ntCase: number;
  /** Whether long-name entries precede the short entry. */
  lfn: boolean;
  /** Directory slots taken: long-name entries plus the short entry. */
  slots: number;
  /** A file's first cluster (0 when empty), given when writing; a directory's is its FatDir's. */
  cluster: number;
  dir?: FatDir;
}

export interface FatDir {
  path: string;
  inode: Inode;
  parent: FatDir | undefined;
  entries: FatEntry[];
  /** Slots including '.', '..' (subdirectories) or the volume label (root). */
  slots: number;
  /** The first cluster, given when writing (0 for the root of FAT12 and FAT16). */
  cluster: number;
}

export interface FatLayout {
  root: FatDir;
  /** Every directory, root first, parents before children. */
  dirs: FatDir[];
  /** Every regular file entry, in walk order. */
  files: FatEntry[];
  /** clustersNeeded's answers so far, by cluster size (times two, plus one for FAT32): sizing asks for the same ones many times. */
  clusters: Map<number, number>;
}

export type SpecialFilePolicy = 'error' | 'skip';

export function layoutTree(tree: FileTree, options: { hasLabel: boolean; specialFiles?: SpecialFilePolicy }): FatLayout {
  const root: FatDir = { path: '', inode: tree.root, parent: undefined, entries: [], slots: options.hasLabel ? 1 : 0, cluster: 0 };
  const dirs: FatDir[] = [root];
  const files: FatEntry[] = [];
  // The walk goes depth first, parents before children: an entry's parent is on the stack of
  // the directories it is in, found by comparing paths rather than by building the parent's.
  const open: FatDir[] = [root];
  for (const [path, inode] of tree.walk()) {
    if (path === '') continue;
    const slash = path.lastIndexOf('/');
    while (open.length > 1 && !(open.at(-1)!.path.length === slash && path.startsWith(open.at(-1)!.path))) open.pop();
    const parent = open.at(-1)!;
    if (slash >= 0 && parent === root) continue; // below a skipped entry
    if (inode.type !== 'file' && inode.type !== 'dir') {
      if (options.specialFiles === 'skip') continue;
      throw new KilnError(
        'fat-special-file',
        `'${printableName(path)}' is a ${inode.type === 'symlink' ? 'symbolic link' : `${inode.type} node`}, which FAT cannot hold`,
        'remove it from the source, or pass the option to skip special files (--skip-special)',
      );
    }
    const name = path.slice(slash + 1);
    checkLongName(name, path);
    if (inode.type === 'file' && (inode.content?.size ?? 0) > MAX_FAT_FILE) {
      throw new KilnError(
        'fat-file-too-large',
        `'${printableName(path)}' is ${inode.content!.size} bytes; FAT files must be smaller than 4 GiB`,
        'split the file or use ext4',
      );
    }
    const entry: FatEntry = { name, path, inode, short: '', ntCase: 0, lfn: false, slots: 1, cluster: 0 };
    if (inode.type === 'file') files.push(entry);
    else {
      const dir: FatDir = { path, inode, parent, entries: [], slots: 2, cluster: 0 };
      entry.dir = dir;
      open.push(dir);
      dirs.push(dir);
    }
    parent.entries.push(entry);
  }
  for (const dir of dirs) assignShortNames(dir);
  return { root, dirs, files, clusters: new Map() };
}

/** The exact 8.3 names, which entries need long names, and the slots of `dir`; refuses clashes and directories too large. */
function assignShortNames(dir: FatDir): void {
  const seen = new Map<string, string>();
  for (const e of dir.entries) {
    const key = caseFoldKey(e.name);
    const other = seen.get(key);
    if (other !== undefined) {
      throw new KilnError(
        'fat-name-clash',
        `'${printableName(e.path)}' and '${printableName(other)}' differ only in letter case; FAT treats them as the same name`,
        'rename one of them',
      );
    }
    seen.set(key, e.path);
  }
  for (const e of dir.entries) {
    const exact = exactShortName(e.name);
    if (exact) {
      e.short = exact.packed;
      e.ntCase = exact.ntCase;
    } else {
      e.lfn = true;
      e.slots = 1 + Math.ceil(e.name.length / LFN_CHARS);
    }
  }
  for (const e of dir.entries) dir.slots += e.slots;
  if (dir.slots > MAX_DIR_SLOTS) {
    throw new KilnError(
      'fat-dir-too-large',
      `directory '${printableName(dir.path || '/')}' needs ${dir.slots} entries; FAT directories hold at most ${MAX_DIR_SLOTS}`,
      'spread its files over subdirectories or use shorter names',
    );
  }
}

/**
 * The 8.3 aliases (`~N`) of the entries that need long names, in each directory after its
 * exact 8.3 names are reserved. A step of its own, for writing: sizing needs only which entries
 * need long names, not their aliases.
 */
export function assignAliases(layout: FatLayout): void {
  for (const dir of layout.dirs) {
    const names = new ShortNameAllocator();
    for (const e of dir.entries) if (!e.lfn) names.reserve(e.short);
    for (const e of dir.entries) if (e.lfn) e.short = names.alias(e.name);
  }
}

/** FAT directories are limited to 65,536 32-byte entries (2 MiB). */
export const MAX_DIR_SLOTS = 65536;

/** Clusters the tree needs with clusters of `clusterBytes`, FAT32's root included if `fat32`. */
export function clustersNeeded(layout: FatLayout, clusterBytes: number, fat32: boolean): number {
  const key = clusterBytes * 2 + (fat32 ? 1 : 0);
  const known = layout.clusters.get(key);
  if (known !== undefined) return known;
  let n = 0;
  for (const f of layout.files) n += Math.ceil((f.inode.content?.size ?? 0) / clusterBytes);
  for (const d of layout.dirs) {
    if (d === layout.root && !fat32) continue;
    n += Math.max(1, Math.ceil((d.slots * DIRENT_SIZE) / clusterBytes));
  }
  layout.clusters.set(key, n);
  return n;
}
