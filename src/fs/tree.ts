import { KilnError } from '../errors.js';
import { BytesContent } from './bytes-content.js';
import type { FileContent } from './file-content.js';
import { canonicalName, compareNameBytes, printableName } from './name-bytes.js';

/**
 * FileTree: the description of a filesystem tree that every writer consumes and every
 * reader, archive parser and artifact manifest produces. Paths are relative, '/'-separated,
 * without '.' or '..' ('' is the root). Hard links are several paths naming the same Inode
 * object. Names and symlink targets are bytes, held as strings through the lossless codec of
 * name-bytes.ts (UTF-8, with each byte of an invalid sequence as U+DC80…U+DCFF); children are
 * ordered by those bytes, so nothing depends on readdir order or locale.
 */

export type NodeType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

export interface Timestamp {
  /** Seconds since the epoch; negative before 1970. */
  sec: number;
  /** 0 … 999,999,999 */
  nsec: number;
}

export interface Inode {
  type: NodeType;
  /** Permission bits including setuid, setgid and sticky (0o7777); the type is `type`. */
  mode: number;
  uid: number;
  gid: number;
  mtime: Timestamp;
  /** Defaults to mtime where a format stores them. */
  atime?: Timestamp;
  ctime?: Timestamp;
  crtime?: Timestamp;
  /** Extended attributes by full name (`user.x`, `security.capability`, …). */
  xattrs?: Map<string, Uint8Array>;
  /** Regular files. */
  content?: FileContent;
  /** Symlinks: the target as written. */
  target?: string;
  /** Character and block devices. */
  rdev?: { major: number; minor: number };
}

export const EPOCH: Timestamp = Object.freeze({ sec: 0, nsec: 0 });

export interface InodeInit {
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Timestamp;
  atime?: Timestamp;
  ctime?: Timestamp;
  crtime?: Timestamp;
  xattrs?: Map<string, Uint8Array> | Record<string, Uint8Array | string>;
}

function xattrMap(x: InodeInit['xattrs']): Map<string, Uint8Array> | undefined {
  if (!x) return undefined;
  if (x instanceof Map) return x;
  const m = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(x)) m.set(k, typeof v === 'string' ? new TextEncoder().encode(v) : v);
  return m;
}

function makeInode(type: NodeType, defMode: number, init: InodeInit): Inode {
  const inode: Inode = {
    type,
    mode: (init.mode ?? defMode) & 0o7777,
    uid: init.uid ?? 0,
    gid: init.gid ?? 0,
    mtime: init.mtime ?? EPOCH,
  };
  if (init.atime) inode.atime = init.atime;
  if (init.ctime) inode.ctime = init.ctime;
  if (init.crtime) inode.crtime = init.crtime;
  const xattrs = xattrMap(init.xattrs);
  if (xattrs && xattrs.size > 0) inode.xattrs = xattrs;
  return inode;
}

const encoder = new TextEncoder();

/** Byte-wise comparison of names (see name-bytes.ts): the one order every writer and reader uses. */
export function compareNames(a: string, b: string): number {
  return compareNameBytes(a, b);
}

const DOT_OR_EMPTY = /(^|\/)\.{0,2}(\/|$)/;
const NOT_PLAIN = /[\uD800-\uDFFF]|(^|\/)\.{0,2}(\/|$)/;

/** Normalises 'a//b/./c/' to 'a/b/c'; refuses '..' and empty names. */
export function normalizePath(path: string): string {
  // Most paths are already normal (no surrogate to make canonical, no empty, '.' or '..'
  // component): one scan says so. Every add and lookup of a path comes here.
  if (!NOT_PLAIN.test(path)) return path;
  path = canonicalName(path);
  if (!DOT_OR_EMPTY.test(path)) return path;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new KilnError('bad-path', `path '${printableName(path)}' contains '..'`, 'tree paths must stay inside the tree');
    parts.push(part);
  }
  return parts.join('/');
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A directory of the tree (other paths are their inodes alone). */
class DirNode {
  /**
   * The children's paths, in name order while `sorted`. Paths removed stay until the next sort
   * (a removal is then O(1), not O(siblings)); a path removed and added again is there twice.
   */
  children: string[] = [];
  sorted = true;
  constructor(public inode: Inode) {}
}

export class FileTree {
  /** Every path's directory or, for other types, inode: one map for the tree (a map per directory costs a key and an entry per path again). */
  private readonly entries = new Map<string, DirNode | Inode>();
  /** Directory inodes in the tree, to refuse hard-linking one in O(1). */
  private readonly dirInodes = new Set<Inode>();
  private changeCount = 0;

  constructor(root: InodeInit = {}) {
    const inode = makeInode('dir', 0o755, root);
    this.entries.set('', new DirNode(inode));
    this.dirInodes.add(inode);
  }

  get root(): Inode {
    return (this.entries.get('') as DirNode).inode;
  }

  /**
   * How many times a path was added, replaced or removed: while it stays the same, every path
   * names the same inode as before (a writer's plan of the tree holds, tree-snapshot.ts).
   */
  get changes(): number {
    return this.changeCount;
  }

  /** Number of paths (hard links count once per path), the root included. */
  get pathCount(): number {
    return this.entries.size;
  }

  has(path: string): boolean {
    return this.entries.has(normalizePath(path));
  }

  get(path: string): Inode | undefined {
    const e = this.entries.get(normalizePath(path));
    return e instanceof DirNode ? e.inode : e;
  }

  /** Adds an inode at `path`; the parent directory must exist and the path must not. */
  add(path: string, inode: Inode): Inode {
    const p = normalizePath(path);
    if (p === '') throw new KilnError('tree-exists', 'the root already exists');
    const parent = this.entries.get(parentOf(p));
    if (!parent) throw new KilnError('tree-no-parent', `cannot add '${printableName(p)}': its directory '${printableName(parentOf(p))}' is not in the tree`);
    if (!(parent instanceof DirNode))
      throw new KilnError('tree-not-dir', `cannot add '${printableName(p)}': '${printableName(parentOf(p))}' is not a directory`);
    if (this.entries.has(p)) throw new KilnError('tree-exists', `'${printableName(p)}' is already in the tree`);
    if (inode.type === 'dir') {
      if (this.dirInodes.has(inode)) throw new KilnError('tree-dir-link', `cannot hard-link directory to '${printableName(p)}'`);
      this.dirInodes.add(inode);
    }
    // Siblings' paths differ only in their names, so paths compare as the names do. Trees read
    // from somewhere add names in order: the children stay sorted without a sort.
    const siblings = parent.children;
    if (parent.sorted && siblings.length > 0 && compareNames(siblings[siblings.length - 1]!, p) > 0) parent.sorted = false;
    siblings.push(p);
    this.entries.set(p, inode.type === 'dir' ? new DirNode(inode) : inode);
    this.changeCount++;
    return inode;
  }

  /** Replaces the inode at an existing non-directory path, or adds it. */
  set(path: string, inode: Inode): Inode {
    const p = normalizePath(path);
    const old = this.entries.get(p);
    if (!old) return this.add(p, inode);
    if (old instanceof DirNode && inode.type === 'dir') {
      this.dirInodes.delete(old.inode);
      this.dirInodes.add(inode);
      old.inode = inode;
    } else if (old instanceof DirNode || inode.type === 'dir') throw new KilnError('tree-exists', `'${printableName(p)}' exists with a different type`);
    else this.entries.set(p, inode);
    this.changeCount++;
    return inode;
  }

  remove(path: string): void {
    const p = normalizePath(path);
    const e = this.entries.get(p);
    if (!e || p === '') return;
    this.drop(p, e);
    this.changeCount++;
    // (the path leaves its parent's children at their next sort)
    (this.entries.get(parentOf(p)) as DirNode).sorted = false;
  }

  /** Takes a path and everything under it out of the tree. */
  private drop(path: string, e: DirNode | Inode): void {
    if (e instanceof DirNode) {
      for (const child of e.children) {
        const c = this.entries.get(child);
        if (c) this.drop(child, c);
      }
      this.dirInodes.delete(e.inode);
    }
    this.entries.delete(path);
  }

  mkdir(path: string, init: InodeInit = {}): Inode {
    return this.add(path, makeInode('dir', 0o755, init));
  }

  /** Creates the directory and any missing parents (with `init`); existing ones are kept. */
  mkdirp(path: string, init: InodeInit = {}): Inode {
    const p = normalizePath(path);
    let cur = '';
    for (const part of p === '' ? [] : p.split('/')) {
      cur = cur ? `${cur}/${part}` : part;
      const e = this.entries.get(cur);
      if (!e) this.mkdir(cur, init);
      else if (!(e instanceof DirNode)) throw new KilnError('tree-not-dir', `'${printableName(cur)}' is not a directory`);
    }
    return (this.entries.get(p) as DirNode).inode;
  }

  file(path: string, content: FileContent | Uint8Array | string, init: InodeInit = {}): Inode {
    const inode = makeInode('file', 0o644, init);
    inode.content =
      typeof content === 'string' ? new BytesContent(encoder.encode(content)) : content instanceof Uint8Array ? new BytesContent(content) : content;
    return this.add(path, inode);
  }

  symlink(path: string, target: string, init: InodeInit = {}): Inode {
    const inode = makeInode('symlink', 0o777, init);
    inode.target = target;
    return this.add(path, inode);
  }

  device(path: string, type: 'char' | 'block', major: number, minor: number, init: InodeInit = {}): Inode {
    const inode = makeInode(type, 0o600, init);
    inode.rdev = { major, minor };
    return this.add(path, inode);
  }

  special(path: string, type: 'fifo' | 'socket', init: InodeInit = {}): Inode {
    return this.add(path, makeInode(type, 0o644, init));
  }

  /** A hard link: `path` names the same inode as `existing`. */
  link(path: string, existing: string): Inode {
    const inode = this.get(existing);
    if (!inode) throw new KilnError('tree-missing', `cannot hard-link '${printableName(path)}' to '${printableName(existing)}': no such path in the tree`);
    if (inode.type === 'dir') throw new KilnError('tree-dir-link', `cannot hard-link '${printableName(path)}' to directory '${printableName(existing)}'`);
    return this.add(path, inode);
  }

  /** Child names of a directory, in byte order. */
  children(path: string): string[] {
    const e = this.entries.get(normalizePath(path));
    return e instanceof DirNode ? this.sortedChildren(e).map(baseName) : [];
  }

  /** Every path (root first), parents before children, siblings in byte order. */
  *walk(): Generator<[string, Inode]> {
    const stack = [''];
    while (stack.length > 0) {
      const path = stack.pop()!;
      const e = this.entries.get(path)!;
      if (e instanceof DirNode) {
        yield [path, e.inode];
        const children = this.sortedChildren(e);
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
      } else yield [path, e];
    }
  }

  /** A directory's children in name order, without those removed since the last sort. */
  private sortedChildren(dir: DirNode): string[] {
    if (!dir.sorted) {
      const live = dir.children.filter((c) => this.entries.has(c)).sort(compareNames);
      // a path removed and added again is in the list twice, now side by side
      dir.children = live.filter((c, i) => i === 0 || c !== live[i - 1]);
      dir.sorted = true;
    }
    return dir.children;
  }

  /** Number of paths naming each inode (hard-link counts, before directories' own). */
  linkCounts(): Map<Inode, number> {
    const counts = new Map<Inode, number>();
    for (const e of this.entries.values()) {
      const inode = e instanceof DirNode ? e.inode : e;
      counts.set(inode, (counts.get(inode) ?? 0) + 1);
    }
    return counts;
  }

  /** Applies `fn` to every distinct inode once. */
  forEachInode(fn: (inode: Inode) => void): void {
    const seen = new Set<Inode>();
    for (const e of this.entries.values()) {
      const inode = e instanceof DirNode ? e.inode : e;
      if (!seen.has(inode)) {
        seen.add(inode);
        fn(inode);
      }
    }
  }
}

export { makeInode };
