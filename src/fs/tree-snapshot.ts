import type { FileTree, Inode, Timestamp } from './tree.js';

/**
 * What a writer's plan of a tree was made from: every path in walk order with its inode, and
 * each inode's fields. Planning a tree and then writing it (or planning it again with other
 * sizes) can reuse the plan while `matches` says the tree is still the same: the same paths
 * naming the same inodes, whose fields (and xattr bytes) have the same values. Content is
 * compared by size only: writers plan from sizes and read content when they write, so content
 * that was replaced by a wrapper of the same size (a progress counter) keeps the plan.
 *
 * Checking looks every path up once and compares numbers: far cheaper than planning again,
 * which hashes a description of every inode and lays out every directory.
 */

/** Numbers describing an inode (encodeFields). */
const FIELDS = 14;
const NONE = -1;
/**
 * How they are kept, per distinct inode: the times' seconds, the size and the device as doubles
 * (WIDE), the rest as 32-bit words (NARROW: type and mode in one, owner, group, the times'
 * nanoseconds). 76 bytes instead of 112; an inode whose numbers do not fit is kept whole.
 */
const WIDE = [4, 6, 8, 10, 12, 13];
const NARROW = [1, 2, 3, 5, 7, 9, 11];
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
    /** Every path, in the tree's walk order (parents first, names in byte order). */
    readonly paths: readonly string[],
    /** Index into `inodes` of each path's inode. */
    readonly inodeIndex: Uint32Array,
    /** The distinct inodes, in the order the walk first meets them. */
    readonly inodes: readonly Inode[],
    private readonly wide: Float64Array,
    private readonly narrow: Uint32Array,
    /** Inodes whose numbers do not fit `narrow`, by index: all their numbers. */
    private readonly whole: Map<number, Float64Array>,
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
    const wide = new Float64Array(WIDE.length * count);
    const narrow = new Uint32Array(NARROW.length * count);
    const whole = new Map<number, Float64Array>();
    const extra = new Map<number, { target?: string; xattrs?: [string, Uint8Array][] }>();
    let n = 0;
    for (const [path, inode] of tree.walk()) {
      paths[n] = path;
      let i = indexOf.get(inode);
      if (i === undefined) {
        i = inodes.length;
        indexOf.set(inode, i);
        inodes.push(inode);
        encodeFields(inode, SCRATCH, 0);
        if (!pack(SCRATCH, wide, narrow, i)) whole.set(i, SCRATCH.slice());
        if (inode.target !== undefined || inode.xattrs) {
          extra.set(i, {
            ...(inode.target !== undefined ? { target: inode.target } : {}),
            ...(inode.xattrs ? { xattrs: [...inode.xattrs].map(([k, v]): [string, Uint8Array] => [k, Uint8Array.from(v)]) } : {}),
          });
        }
      }
      inodeIndex[n++] = i;
    }
    // (the room of hard links' second paths is left unused rather than copied away)
    const k = inodes.length;
    return new TreeSnapshot(paths, inodeIndex, inodes, wide.subarray(0, k * WIDE.length), narrow.subarray(0, k * NARROW.length), whole, extra);
  }

  /**
   * Whether `tree` still holds what this snapshot was taken of. Every recorded path must name the
   * same inode and no other path may exist (the counts match), so the walk order, which follows
   * from the names alone, is the same too.
   */
  matches(tree: FileTree): boolean {
    if (tree.pathCount !== this.paths.length) return false;
    for (let n = 0; n < this.paths.length; n++) if (tree.get(this.paths[n]!) !== this.inodes[this.inodeIndex[n]!]) return false;
    for (let i = 0; i < this.inodes.length; i++) {
      const inode = this.inodes[i]!;
      const fields = this.whole.get(i) ?? unpack(this.wide, this.narrow, i, SCRATCH);
      if (!sameFields(inode, fields, 0)) return false;
      const extra = this.extra.get(i);
      if (inode.target !== extra?.target || !sameXattrs(inode.xattrs, extra?.xattrs)) return false;
    }
    return true;
  }
}

const SCRATCH = new Float64Array(FIELDS);

/** Keeps inode `i`'s numbers compactly; false when they do not fit (see NARROW). */
function pack(fields: Float64Array, wide: Float64Array, narrow: Uint32Array, i: number): boolean {
  const typeMode = fields[0]! * 0x10000 + fields[1]!;
  if (!(Number.isInteger(fields[1]) && fields[1]! >= 0 && fields[1]! <= 0xffff)) return false;
  for (let k = 1; k < NARROW.length; k++) {
    const v = fields[NARROW[k]!]!;
    // an absent time is NaN in both its numbers; kept as a NaN second and a 0 nanosecond (sameTime looks at the second only)
    const absent = k >= 3 && Number.isNaN(v) && Number.isNaN(fields[NARROW[k]! - 1]!);
    if (!absent && !(Number.isInteger(v) && v >= 0 && v < 2 ** 32)) return false;
  }
  for (let k = 0; k < WIDE.length; k++) wide[i * WIDE.length + k] = fields[WIDE[k]!]!;
  narrow[i * NARROW.length] = typeMode;
  for (let k = 1; k < NARROW.length; k++) narrow[i * NARROW.length + k] = fields[NARROW[k]!]! || 0;
  return true;
}

/** Inode `i`'s numbers, from `pack`, into `out`. */
function unpack(wide: Float64Array, narrow: Uint32Array, i: number, out: Float64Array): Float64Array {
  for (let k = 0; k < WIDE.length; k++) out[WIDE[k]!] = wide[i * WIDE.length + k]!;
  const typeMode = narrow[i * NARROW.length]!;
  out[0] = typeMode >>> 16;
  out[1] = typeMode & 0xffff;
  for (let k = 1; k < NARROW.length; k++) out[NARROW[k]!] = narrow[i * NARROW.length + k]!;
  return out;
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
