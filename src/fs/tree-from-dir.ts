import { accessSync, constants, lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../errors.js';
import { HostFileContent } from './content.js';
import type { OwnerPolicy } from './tree-from-tar.js';
import { FileTree, compareNames, makeInode, type Inode, type NodeType, type Timestamp } from './tree.js';

export interface DirTreeOptions {
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

/**
 * Whether this process may read a file, from its mode bits; `access(2)` only where the bits say
 * no (ACLs may still allow it). Root reads everything, so a root build makes no extra syscall.
 */
function readable(st: BigIntStats, hostPath: string): boolean {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return true;
  const mode = Number(st.mode);
  const bit = Number(st.uid) === uid ? 0o400 : groups().has(Number(st.gid)) ? 0o040 : 0o004;
  if (mode & bit) return true;
  try {
    accessSync(hostPath, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

let groupSet: Set<number> | undefined;
function groups(): Set<number> {
  groupSet ??= new Set([process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])]);
  return groupSet;
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
 * inside the directory stay hard links. (Extended attributes of host files are not read:
 * Node has no xattr API; tar input carries them.)
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
  const inodeOf = (st: BigIntStats, hostPath: string): Inode => {
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
      if (!readable(st, hostPath)) throw new KilnError('unreadable', `cannot read '${hostPath}'`, 'fix its permissions or leave it out of the source');
      inode.content = new HostFileContent(hostPath, Number(st.size));
    } else if (type === 'symlink') inode.target = readlinkSync(hostPath, 'utf8');
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
  const walk = (hostDir: string, treeDir: string): void => {
    let names: string[];
    try {
      names = readdirSync(hostDir);
    } catch (e) {
      throw new KilnError('unreadable', `cannot list '${hostDir}': ${(e as Error).message}`, 'fix its permissions or leave it out of the source');
    }
    names.sort(compareNames);
    for (const name of names) {
      const hostPath = join(hostDir, name);
      const path = treeDir ? `${treeDir}/${name}` : name;
      const st = lstatSync(hostPath, { bigint: true });
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
  return tree;
}
