import { accessSync, constants, lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { KilnError } from '../errors.js';
import { HostFileContent } from './content.js';
import { hostJoin, showHost, type HostPath } from './host-path.js';
import { bytesToName } from './name-bytes.js';
import type { OwnerPolicy } from './tree-from-tar.js';
import { compareNames, FileTree, makeInode, type Inode, type NodeType, type Timestamp } from './tree.js';
import { readHostXattrs, type XattrReadOptions } from './xattrs-from-dir.js';

export interface DirTreeOptions extends XattrReadOptions {
  /** 'keep' (default) takes the files' owners; 'root' makes everything 0:0. */
  owners?: OwnerPolicy;
}

function ts(ns: bigint): Timestamp {
  const sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  let s = sec;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    s -= 1n;
  }
  return { sec: Number(s), nsec: Number(nsec) };
}

/** Who this process is, for `readable`: read once per tree (each call is a system call). */
interface Reader {
  uid: number;
  groups: Set<number>;
}

function currentReader(): Reader {
  return { uid: process.getuid?.() ?? 0, groups: new Set([process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])]) };
}

/**
 * Whether this process may read a file, from its mode bits; `access(2)` only where the bits say
 * no (ACLs may still allow it). Root reads everything, so a root build makes no extra syscall.
 */
function readable(st: BigIntStats, hostPath: HostPath, reader: Reader): boolean {
  if (reader.uid === 0) return true;
  const mode = Number(st.mode);
  const bit = Number(st.uid) === reader.uid ? 0o400 : reader.groups.has(Number(st.gid)) ? 0o040 : 0o004;
  if (mode & bit) return true;
  try {
    accessSync(hostPath, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The names in a host directory as tree names, in byte order. Read as UTF-8 text (decoded by
 * Node, the common case); a directory where a name does not decode (U+FFFD appears) is read
 * again as bytes, so that those names keep their bytes.
 */
function listDirectory(hostDir: HostPath): string[] {
  let names: string[];
  try {
    names = typeof hostDir === 'string' ? readdirSync(hostDir, 'utf8') : [];
    if (typeof hostDir !== 'string' || names.some((n) => n.includes('\uFFFD'))) names = readdirSync(hostDir, { encoding: 'buffer' }).map(bytesToName);
  } catch (e) {
    throw new KilnError('unreadable', `cannot list '${showHost(hostDir)}': ${(e as Error).message}`, 'fix its permissions or leave it out of the source');
  }
  return names.sort(compareNames);
}

function typeOf(st: BigIntStats): NodeType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

/**
 * Builds a FileTree from a host directory. Files are referenced, not read; each is checked
 * readable now so that a write fails before its first byte rather than halfway. Hard links
 * inside the directory stay hard links. Names and symlink targets are read as bytes
 * (name-bytes.ts), so names that are not UTF-8 work and stay exact. Extended attributes come
 * from one `getfattr` run over the tree (xattrs-from-dir.ts; Node has no xattr API).
 */
export function treeFromDirectory(root: string, options: DirTreeOptions = {}): FileTree {
  const owners = options.owners ?? 'keep';
  let rootStat: BigIntStats;
  try {
    rootStat = lstatSync(root, { bigint: true });
  } catch {
    throw new KilnError('no-source', `source directory '${root}' does not exist`, 'name an existing directory');
  }
  if (!rootStat.isDirectory()) throw new KilnError('no-source', `source '${root}' is not a directory`, 'name a directory, or use --from-tar for an archive');
  const reader = currentReader();
  const inodeOf = (st: BigIntStats, hostPath: HostPath): Inode => {
    const type = typeOf(st);
    const inode = makeInode(type, 0, {
      mode: Number(st.mode) & 0o7777,
      uid: owners === 'root' ? 0 : Number(st.uid),
      gid: owners === 'root' ? 0 : Number(st.gid),
      mtime: ts(st.mtimeNs),
      atime: ts(st.atimeNs),
      ctime: ts(st.ctimeNs),
    });
    if (type === 'file') {
      if (!readable(st, hostPath, reader)) throw new KilnError('unreadable', `cannot read '${showHost(hostPath)}'`, 'fix its permissions or leave it out of the source');
      inode.content = new HostFileContent(hostPath, Number(st.size));
    } else if (type === 'symlink') inode.target = bytesToName(readlinkSync(hostPath, { encoding: 'buffer' }));
    else if (type === 'char' || type === 'block') {
      // glibc's gnu_dev_major/minor over the 64-bit dev_t (bigint: JS shifts are 32-bit)
      const rdev = st.rdev;
      inode.rdev = { major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)), minor: Number((rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n)) };
    }
    return inode;
  };
  const tree = new FileTree();
  Object.assign(tree.root, inodeOf(rootStat, root));
  const seen = new Map<string, string>(); // dev:ino → first path, for hard links
  const walk = (hostDir: HostPath, treeDir: string): void => {
    for (const name of listDirectory(hostDir)) {
      const hostPath = hostJoin(hostDir, name);
      const path = treeDir ? `${treeDir}/${name}` : name;
      let st: BigIntStats;
      try {
        st = lstatSync(hostPath, { bigint: true });
      } catch (e) {
        throw new KilnError('source-changed', `cannot read '${showHost(hostPath)}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'make sure nothing changes the source directory while kiln reads it, then run again');
      }
      if (!st.isDirectory() && st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        const first = seen.get(key);
        if (first !== undefined) {
          tree.link(path, first);
          continue;
        }
        seen.set(key, path);
      }
      tree.add(path, inodeOf(st, hostPath));
      if (st.isDirectory()) walk(hostPath, path);
    }
  };
  walk(root, '');
  readHostXattrs(root, tree, options);
  return tree;
}
