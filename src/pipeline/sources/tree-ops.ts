import { makeInode, parentOf, type FileTree, type Inode } from '../../fs/tree.js';
import { SOURCE_MTIME } from './kind.js';

/** Tree operations shared by source kinds for putting files into an element's source area. */

/** Resolves '.' and '..' in a relative path; undefined when it climbs above its root. */
export function resolveInside(path: string): string | undefined {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

/** The directory of a tree path plus a relative symlink target, resolved; undefined if it escapes. */
export function symlinkStaysInside(linkPath: string, target: string): boolean {
  if (target.startsWith('/')) return false;
  const dir = parentOf(linkPath);
  return resolveInside(dir ? `${dir}/${target}` : target) !== undefined;
}

/**
 * Copies `src` (all of it, or the subtree at `from`) into `dest` under `at`: directories merge,
 * other nodes replace what was there. Hard-link identity inside `src` is kept (same Inode objects).
 */
export function overlayTree(dest: FileTree, at: string, src: FileTree, from = ''): void {
  const prefix = from === '' ? '' : `${from}/`;
  if (at !== '') dest.mkdirp(at, { mode: 0o755 });
  for (const [path, inode] of src.walk()) {
    if (path !== from && !path.startsWith(prefix)) continue;
    const rel = path === from ? '' : path.slice(prefix.length);
    const target = rel === '' ? at : at === '' ? rel : `${at}/${rel}`;
    if (target === '') {
      if (inode.type === 'dir') Object.assign(dest.root, { mode: inode.mode, uid: inode.uid, gid: inode.gid, mtime: inode.mtime });
      continue;
    }
    const old = dest.get(target);
    if (inode.type === 'dir') {
      if (old && old.type === 'dir') {
        const { mode, uid, gid, mtime } = inode;
        Object.assign(old, { mode, uid, gid, mtime });
        continue;
      }
      if (old) dest.remove(target);
      dest.add(target, makeInode('dir', inode.mode, { mode: inode.mode, uid: inode.uid, gid: inode.gid, mtime: inode.mtime }));
      continue;
    }
    if (old) dest.remove(target);
    dest.add(target, inode);
  }
}

/** Normalises staged sources the way BuildStream does: fixed mtime, owned by the build user (0). */
export function normalizeSourceTree(tree: FileTree): void {
  tree.forEachInode((inode: Inode) => {
    inode.mtime = SOURCE_MTIME;
    delete inode.atime;
    delete inode.ctime;
    delete inode.crtime;
    inode.uid = 0;
    inode.gid = 0;
  });
}
