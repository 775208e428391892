import type { FileTree, Inode, Timestamp } from './tree.js';
import { grown } from './typed-array.js';

/**
 * What a writer's plan of a tree was made from: every path in walk order with its inode, and
 * each inode's fields. Planning a tree and then writing it (or planning it again with other
 * sizes) can reuse the plan while `matches` says the tree is still the same: no path added,
 * replaced or removed since (FileTree.changes), and the inodes' fields (and xattr bytes) the
 * same values. Content is compared by size only: writers plan from sizes and read content when
 * they write, so content that was replaced by a wrapper of the same size (a progress counter)
 * keeps the plan.
 *
 * Checking compares numbers, inode by inode: far cheaper than planning again, which hashes a
 * description of every inode and lays out every directory.
 */

/** Numbers describing an inode whole (encodeFields). */
const FIELDS = 14;
const NONE = -1;
const TYPES: Record<Inode['type'], number> = { file: 0, dir: 1, symlink: 2, char: 3, block: 4, fifo: 5, socket: 6 };

function putTime(out: Float64Array, at: number, t: Timestamp | undefined): void {
  out[at] = t ? t.sec : NaN;
  out[at + 1] = t ? t.nsec : NaN;
}

function sameTime(a: Float64Array, at: number, t: Timestamp | undefined): boolean {
  // NaN never equals itself: absent times are compared by presence.
  return t ? a[at] === t.sec && a[at + 1] === t.nsec : Number.isNaN(a[at]!);
}

export class TreeSnapshot {
  private constructor(
    private readonly tree: FileTree,
    /** `tree.changes` when it was taken. */
    private readonly changes: number,
    /** Every path, in the tree's walk order (parents first, names in byte order). */
    readonly paths: readonly string[],
    /** Index into `inodes` of each path's inode. */
    readonly inodeIndex: Uint32Array,
    /** The distinct inodes, in the order the walk first meets them. */
    readonly inodes: readonly Inode[],
    private readonly numbers: InodeNumbers,
    /** Symlink targets and xattrs, by inode index, where there are any. */
    private readonly extra: Map<number, { target?: string; xattrs?: [string, Uint8Array][] }>,
  ) {}

  static of(tree: FileTree): TreeSnapshot {
    // Sized once: there are as many paths as the tree counts, and at most as many inodes.
    const count = tree.pathCount;
    const paths = new Array<string>(count);
    const inodeIndex = new Uint32Array(count);
    const inodes: Inode[] = [];
    const indexOf = new Map<Inode, number>();
    const numbers = new InodeNumbers(count);
    const extra = new Map<number, { target?: string; xattrs?: [string, Uint8Array][] }>();
    let n = 0;
    for (const [path, inode] of tree.walk()) {
      paths[n] = path;
      let i = indexOf.get(inode);
      if (i === undefined) {
        i = inodes.length;
        indexOf.set(inode, i);
        inodes.push(inode);
        numbers.put(i, inode);
        if (inode.target !== undefined || inode.xattrs) {
          extra.set(i, {
            ...(inode.target !== undefined ? { target: inode.target } : {}),
            ...(inode.xattrs ? { xattrs: [...inode.xattrs].map(([k, v]): [string, Uint8Array] => [k, Uint8Array.from(v)]) } : {}),
          });
        }
      }
      inodeIndex[n++] = i;
    }
    numbers.trim();
    return new TreeSnapshot(tree, tree.changes, paths, inodeIndex, inodes, numbers, extra);
  }

  /**
   * Whether `tree` still holds what this snapshot was taken of: it is that tree, with no path
   * added, replaced or removed since (so every recorded path names the same inode, in the same
   * walk order), and each inode's fields have the same values.
   */
  matches(tree: FileTree): boolean {
    if (tree !== this.tree || tree.changes !== this.changes) return false;
    for (let i = 0; i < this.inodes.length; i++) {
      const inode = this.inodes[i]!;
      if (!this.numbers.same(i, inode)) return false;
      const extra = this.extra.get(i);
      if (inode.target !== extra?.target || !sameXattrs(inode.xattrs, extra?.xattrs)) return false;
    }
    return true;
  }
}

/** Words per inode in InodeNumbers: type and mode, owner, group, and the four times' indices. */
const WORDS = 7;
/** Distinct times remembered by their object while numbering them. */
const TIMES_KEPT = 4096;

/**
 * The inodes' numbers, compactly: per inode, seven 32-bit words (type and mode in one, owner,
 * group, and the index of each of its four times in a table of times, 0 where it has none) and
 * its size as a double: 36 bytes, where the 14 doubles of encodeFields are 112. Inodes sharing
 * a Timestamp object (treeFromDirectory shares equal times) share its entry in the table. An
 * inode whose numbers do not fit (a mode past 16 bits, an owner that is not a 32-bit count, a
 * device number) is kept whole.
 */
class InodeNumbers {
  private readonly words: Uint32Array;
  private readonly sizes: Float64Array;
  /** Each time's seconds and nanoseconds; entry 0 is unused (absent). */
  private times = new Float64Array(2 * 1024);
  private timeCount = 1;
  private timeIndex = new Map<Timestamp, number>();
  /** By inode index: all the numbers of an inode kept whole. */
  private readonly whole = new Map<number, Float64Array>();

  constructor(inodes: number) {
    this.words = new Uint32Array(WORDS * inodes);
    this.sizes = new Float64Array(inodes);
  }

  put(i: number, inode: Inode): void {
    if (inode.rdev || !fitsWord(inode.uid) || !fitsWord(inode.gid) || !(fitsWord(inode.mode) && inode.mode <= 0xffff)) {
      const fields = new Float64Array(FIELDS);
      encodeFields(inode, fields, 0);
      this.whole.set(i, fields);
      return;
    }
    const w = this.words;
    const at = i * WORDS;
    w[at] = TYPES[inode.type] * 0x10000 + inode.mode;
    w[at + 1] = inode.uid;
    w[at + 2] = inode.gid;
    w[at + 3] = this.time(inode.mtime);
    w[at + 4] = this.time(inode.atime);
    w[at + 5] = this.time(inode.ctime);
    w[at + 6] = this.time(inode.crtime);
    this.sizes[i] = inode.content ? inode.content.size : NONE;
  }

  same(i: number, inode: Inode): boolean {
    const fields = this.whole.get(i);
    if (fields) return sameFields(inode, fields, 0);
    const w = this.words;
    const at = i * WORDS;
    return (
      w[at] === TYPES[inode.type] * 0x10000 + inode.mode &&
      w[at + 1] === inode.uid &&
      w[at + 2] === inode.gid &&
      this.sameTime(w[at + 3]!, inode.mtime) &&
      this.sameTime(w[at + 4]!, inode.atime) &&
      this.sameTime(w[at + 5]!, inode.ctime) &&
      this.sameTime(w[at + 6]!, inode.crtime) &&
      this.sizes[i] === (inode.content ? inode.content.size : NONE) &&
      inode.rdev === undefined
    );
  }

  /** Gives back the table's room for more times (once every inode is put). */
  trim(): void {
    this.times = this.times.slice(0, 2 * this.timeCount);
    this.timeIndex = new Map();
  }

  private time(t: Timestamp | undefined): number {
    if (!t) return 0;
    let k = this.timeIndex.get(t);
    if (k === undefined) {
      if (this.timeIndex.size >= TIMES_KEPT) this.timeIndex = new Map();
      k = this.timeCount++;
      if (2 * k + 2 > this.times.length) this.times = grown(this.times, this.times.length * 2);
      this.times[2 * k] = t.sec;
      this.times[2 * k + 1] = t.nsec;
      this.timeIndex.set(t, k);
    }
    return k;
  }

  private sameTime(k: number, t: Timestamp | undefined): boolean {
    // (a time whose numbers are NaN never matches, as in sameFields)
    return t ? k !== 0 && this.times[2 * k] === t.sec && this.times[2 * k + 1] === t.nsec : k === 0;
  }
}

function fitsWord(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < 2 ** 32;
}

function encodeFields(inode: Inode, out: Float64Array, at: number): void {
  out[at] = TYPES[inode.type];
  out[at + 1] = inode.mode;
  out[at + 2] = inode.uid;
  out[at + 3] = inode.gid;
  putTime(out, at + 4, inode.mtime);
  putTime(out, at + 6, inode.atime);
  putTime(out, at + 8, inode.ctime);
  putTime(out, at + 10, inode.crtime);
  out[at + 12] = inode.content ? inode.content.size : NONE;
  out[at + 13] = inode.rdev ? inode.rdev.major * 2 ** 32 + inode.rdev.minor : NONE;
}

function sameFields(inode: Inode, a: Float64Array, at: number): boolean {
  return (
    a[at] === TYPES[inode.type] &&
    a[at + 1] === inode.mode &&
    a[at + 2] === inode.uid &&
    a[at + 3] === inode.gid &&
    sameTime(a, at + 4, inode.mtime) &&
    sameTime(a, at + 6, inode.atime) &&
    sameTime(a, at + 8, inode.ctime) &&
    sameTime(a, at + 10, inode.crtime) &&
    a[at + 12] === (inode.content ? inode.content.size : NONE) &&
    a[at + 13] === (inode.rdev ? inode.rdev.major * 2 ** 32 + inode.rdev.minor : NONE)
  );
}

function sameXattrs(now: Map<string, Uint8Array> | undefined, then: [string, Uint8Array][] | undefined): boolean {
  if (!now || now.size === 0) return !then || then.length === 0;
  if (!then || then.length !== now.size) return false;
  for (const [name, bytes] of then) {
    const value = now.get(name);
    if (!value || value.length !== bytes.length) return false;
    for (let i = 0; i < bytes.length; i++) if (value[i] !== bytes[i]) return false;
  }
  return true;
}

/**
 * Plans of trees (ext4's models, FAT's layouts) kept while a tree is unchanged (TreeSnapshot),
 * by the options they depend on: a CLI run plans a tree, asks its free space at a size or two,
 * and writes it. Two per tree (a tree planned with two sets of options, or changed and planned
 * again); once the tree matches one again, the other is dropped.
 */
export class PlanCache<T> {
  private readonly plans = new WeakMap<FileTree, { key: string; snapshot: TreeSnapshot; plan: T }[]>();

  get(tree: FileTree, key: string, make: (snapshot: TreeSnapshot) => T): T {
    const recent = this.plans.get(tree) ?? [];
    for (const e of recent) {
      if (e.key !== key || !e.snapshot.matches(tree)) continue;
      this.plans.set(tree, [e]);
      return e.plan;
    }
    const snapshot = TreeSnapshot.of(tree);
    const plan = make(snapshot);
    this.plans.set(tree, [{ key, snapshot, plan }, ...recent.slice(0, 1)]);
    return plan;
  }
}
