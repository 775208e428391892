import { KilnError } from '../../errors.js';
import { printableName } from '../name-bytes.js';
import type { Inode } from '../tree.js';
import type { TreeSnapshot } from '../tree-snapshot.js';
import { fieldWidth } from '../struct.js';
import { DIRENT_SIZE, DirEntry, LFN_CHARS } from './dirent.js';
import { ShortNameAllocator, caseFoldKey, checkLongName, exactShortName, packedFromBytes, packedToBytes } from './names.js';

/**
 * The tree as FAT will hold it, independent of the volume size: every directory with its
 * entries in byte order, each entry's 8.3 name and whether it needs long-name entries (the
 * aliases of those that do are given by assignAliases, and the first clusters by writeFat's
 * allocation, when writing). Built (and everything FAT cannot hold refused) before any byte is
 * written.
 *
 * An entry is numbered by its path's place in the snapshot's walk (the root's 0 and a skipped
 * path's numbers are unused), and its fields are kept in arrays by that number rather than as
 * an object each: a million files' layout is then ~30 MB, not ~175 MB.
 */

/** Largest file FAT can hold: the size field is 32 bits. */
export const MAX_FAT_FILE = 0xffffffff;

/** Bytes of DIR_Name: base padded to 8 characters, extension to 3. */
const SHORT_NAME_BYTES = fieldWidth(DirEntry.field('name'));

export interface FatDir {
  path: string;
  inode: Inode;
  parent: FatDir | undefined;
  /** Its entries' numbers, in byte order of their names. */
  entries: Uint32Array;
  /** Slots including '.', '..' (subdirectories) or the volume label (root). */
  slots: number;
  /** The first cluster, given when writing (0 for the root of FAT12 and FAT16). */
  cluster: number;
}

export interface FatLayout {
  root: FatDir;
  /** Every directory, root first, parents before children. */
  dirs: FatDir[];
  /** The tree as laid out: its paths and inodes, by entry number. */
  snapshot: TreeSnapshot;
  /** By entry number, SHORT_NAME_BYTES each: DIR_Name's bytes (an alias only after assignAliases). */
  shortNames: Uint8Array;
  /** By entry number: DIR_NTRes's case bits of an exact 8.3 name. */
  ntCase: Uint8Array;
  /** By entry number: directory slots taken, long-name entries (when there are any) plus the short entry. */
  slots: Uint8Array;
  /** By entry number: a file's first cluster (0 when empty), given when writing; a directory's is its FatDir's. */
  firstCluster: Uint32Array;
  /** By entry number: the index in `dirs` of a directory, -1 for a file. */
  dirIndex: Int32Array;
  /** Every regular file's entry number, in walk order. */
  files: Uint32Array;
  /** clustersNeeded's answers so far, by cluster size (times two, plus one for FAT32): sizing asks for the same ones many times. */
  clusterCounts: Map<number, number>;
}

export type SpecialFilePolicy = 'error' | 'skip';

/** An entry's path in the tree. */
export function entryPath(layout: FatLayout, entry: number): string {
  return layout.snapshot.paths[entry]!;
}

/** An entry's name: the last part of its path. */
export function entryName(layout: FatLayout, entry: number): string {
  const path = layout.snapshot.paths[entry]!;
  return path.slice(path.lastIndexOf('/') + 1);
}

export function entryInode(layout: FatLayout, entry: number): Inode {
  const { inodes, inodeIndex } = layout.snapshot;
  return inodes[inodeIndex[entry]!]!;
}

/** Whether the entry has long-name entries before its short one. */
export function hasLongName(layout: FatLayout, entry: number): boolean {
  return layout.slots[entry]! > 1;
}

export function layoutTree(snapshot: TreeSnapshot, options: { hasLabel: boolean; specialFiles?: SpecialFilePolicy }): FatLayout {
  const { paths, inodes, inodeIndex } = snapshot;
  const n = paths.length;
  const dirIndex = new Int32Array(n).fill(-1);
  const files = new Uint32Array(n);
  let fileCount = 0;
  // A directory's entries are collected while it is open, then kept as a Uint32Array.
  interface Open {
    dir: FatDir;
    list: number[];
  }
  const root: FatDir = {
    path: '',
    inode: inodes[inodeIndex[0]!]!,
    parent: undefined,
    entries: new Uint32Array(0),
    slots: options.hasLabel ? 1 : 0,
    cluster: 0,
  };
  const dirs: FatDir[] = [root];
  const close = (o: Open): void => {
    o.dir.entries = Uint32Array.from(o.list);
  };
  // The walk goes depth first, parents before children: an entry's parent is on the stack of
  // the directories it is in, found by comparing paths rather than by building the parent's.
  const open: Open[] = [{ dir: root, list: [] }];
  for (let entry = 1; entry < n; entry++) {
    const path = paths[entry]!;
    const inode = inodes[inodeIndex[entry]!]!;
    const slash = path.lastIndexOf('/');
    while (open.length > 1 && !(open.at(-1)!.dir.path.length === slash && path.startsWith(open.at(-1)!.dir.path))) close(open.pop()!);
    const parent = open.at(-1)!;
    if (slash >= 0 && parent.dir === root) continue; // below a skipped entry
    if (inode.type !== 'file' && inode.type !== 'dir') {
      if (options.specialFiles === 'skip') continue;
      throw new KilnError(
        'fat-special-file',
        `'${printableName(path)}' is a ${inode.type === 'symlink' ? 'symbolic link' : `${inode.type} node`}, which FAT cannot hold`,
        'remove it from the source, or pass the option to skip special files (--skip-special)',
      );
    }
    checkLongName(path.slice(slash + 1), path);
    if (inode.type === 'file' && (inode.content?.size ?? 0) > MAX_FAT_FILE) {
      throw new KilnError(
        'fat-file-too-large',
        `'${printableName(path)}' is ${inode.content!.size} bytes; FAT files must be smaller than 4 GiB`,
        'split the file or use ext4',
      );
    }
    if (inode.type === 'file') files[fileCount++] = entry;
    else {
      const dir: FatDir = { path, inode, parent: parent.dir, entries: new Uint32Array(0), slots: 2, cluster: 0 };
      dirIndex[entry] = dirs.length;
      dirs.push(dir);
      open.push({ dir, list: [] });
    }
    parent.list.push(entry);
  }
  while (open.length > 0) close(open.pop()!);
  const layout: FatLayout = {
    root,
    dirs,
    snapshot,
    shortNames: new Uint8Array(n * SHORT_NAME_BYTES),
    ntCase: new Uint8Array(n),
    slots: new Uint8Array(n),
    firstCluster: new Uint32Array(n),
    dirIndex,
    files: files.slice(0, fileCount),
    clusterCounts: new Map(),
  };
  for (const dir of dirs) assignShortNames(layout, dir);
  return layout;
}

/** The exact 8.3 names, which entries need long names, and the slots of `dir`; refuses clashes and directories too large. */
function assignShortNames(layout: FatLayout, dir: FatDir): void {
  const seen = new Map<string, number>();
  for (const e of dir.entries) {
    const name = entryName(layout, e);
    const key = caseFoldKey(name);
    const other = seen.get(key);
    if (other !== undefined) {
      throw new KilnError(
        'fat-name-clash',
        `'${printableName(entryPath(layout, e))}' and '${printableName(entryPath(layout, other))}' differ only in letter case; FAT treats them as the same name`,
        'rename one of them',
      );
    }
    seen.set(key, e);
    const exact = exactShortName(name);
    if (exact) {
      packedToBytes(exact.packed, shortNameOf(layout, e));
      layout.ntCase[e] = exact.ntCase;
      layout.slots[e] = 1;
    } else layout.slots[e] = 1 + Math.ceil(name.length / LFN_CHARS);
    dir.slots += layout.slots[e]!;
  }
  if (dir.slots > MAX_DIR_SLOTS) {
    throw new KilnError(
      'fat-dir-too-large',
      `directory '${printableName(dir.path || '/')}' needs ${dir.slots} entries; FAT directories hold at most ${MAX_DIR_SLOTS}`,
      'spread its files over subdirectories or use shorter names',
    );
  }
}

/** The entry's DIR_Name bytes, in the layout's array. */
export function shortNameOf(layout: FatLayout, entry: number): Uint8Array {
  return layout.shortNames.subarray(entry * SHORT_NAME_BYTES, (entry + 1) * SHORT_NAME_BYTES);
}

/**
 * The 8.3 aliases (`~N`) of the entries that need long names, in each directory after its
 * exact 8.3 names are reserved. A step of its own, for writing: sizing needs only which entries
 * need long names, not their aliases.
 */
export function assignAliases(layout: FatLayout): void {
  for (const dir of layout.dirs) {
    if (!dir.entries.some((e) => hasLongName(layout, e))) continue;
    const names = new ShortNameAllocator();
    for (const e of dir.entries) if (!hasLongName(layout, e)) names.reserve(packedFromBytes(layout.shortNames, e * SHORT_NAME_BYTES));
    for (const e of dir.entries) if (hasLongName(layout, e)) packedToBytes(names.alias(entryName(layout, e)), shortNameOf(layout, e));
  }
}

/** FAT directories are limited to 65,536 32-byte entries (2 MiB). */
export const MAX_DIR_SLOTS = 65536;

/** Clusters the tree needs with clusters of `clusterBytes`, FAT32's root included if `fat32`. */
export function clustersNeeded(layout: FatLayout, clusterBytes: number, fat32: boolean): number {
  const key = clusterBytes * 2 + (fat32 ? 1 : 0);
  const known = layout.clusterCounts.get(key);
  if (known !== undefined) return known;
  let n = 0;
  for (const f of layout.files) n += Math.ceil((entryInode(layout, f).content?.size ?? 0) / clusterBytes);
  for (const d of layout.dirs) {
    if (d === layout.root && !fat32) continue;
    n += Math.max(1, Math.ceil((d.slots * DIRENT_SIZE) / clusterBytes));
  }
  layout.clusterCounts.set(key, n);
  return n;
}
