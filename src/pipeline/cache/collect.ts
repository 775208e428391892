import { resolve } from 'node:path';
import { HostContent } from '../../fs/content.js';
import type { HostPath } from '../../fs/host-path.js';
import { treeFromDirectory } from '../../fs/tree-from-dir.js';
import { startReadingXattrs } from '../../fs/xattrs-from-dir.js';
import type { OwnerPolicy } from '../../fs/tree-from-tar.js';
import type { FileTree, Inode, Timestamp } from '../../fs/tree.js';
import { hashFile, type BlobStore } from './blobs.js';
import type { KnownHoles } from './known-holes.js';

export interface CollectOptions {
  /** 'root' (default): everything 0:0, as builds run as uid 0 in the sandbox. 'keep': host owners. */
  owners?: OwnerPolicy;
  /** Give every path this mtime (reproducible artifacts); default: keep the host's. */
  mtime?: Timestamp;
  /** Rename files into the blob store instead of copying (the directory is given up). */
  move?: boolean;
  /** Files of the directory whose holes are known (images kiln wrote): hashed without reading their holes. */
  holes?: KnownHoles[];
}

/**
 * Collects a directory a build wrote (an install root) into a FileTree whose file contents are
 * blobs in `blobs`: modes (setuid bits too), symlinks, empty directories, hard links and
 * extended attributes kept.
 */
export function treeFromStagedDir(dir: string, blobs: BlobStore, options: CollectOptions = {}): FileTree {
  // getfattr runs while the files are hashed (a disk image takes about as long as starting it);
  // the files move into the store only once it has read them
  const xattrs = startReadingXattrs(dir);
  const tree = treeFromDirectory(dir, { owners: options.owners ?? 'root', xattrs: false });
  // each file's host path and digest (a path read from a directory is made on each ask)
  const hashed = new Map<Inode, { path: HostPath; digest: string }>();
  const holes = new Map(options.holes?.map((h) => [resolve(h.path), h]));
  tree.forEachInode((inode) => {
    if (inode.type !== 'file' || !(inode.content instanceof HostContent)) return;
    const path = inode.content.path;
    hashed.set(inode, { path, digest: hashFile(path, holes.size > 0 && typeof path === 'string' ? holes.get(resolve(path)) : undefined) });
  });
  xattrs.apply(tree);
  tree.forEachInode((inode) => {
    if (options.mtime) {
      inode.mtime = options.mtime;
      delete inode.atime;
      delete inode.ctime;
    }
    const file = hashed.get(inode);
    if (file !== undefined) inode.content = blobs.putFile(file.path, { move: options.move ?? false, digest: file.digest });
  });
  return tree;
}
