import { HostFileContent } from '../../fs/content.js';
import { treeFromDirectory } from '../../fs/tree-from-dir.js';
import type { OwnerPolicy } from '../../fs/tree-from-tar.js';
import type { FileTree, Timestamp } from '../../fs/tree.js';
import type { BlobStore } from './blobs.js';

export interface CollectOptions {
  /** 'root' (default): everything 0:0, as builds run as uid 0 in the sandbox. 'keep': host owners. */
  owners?: OwnerPolicy;
  /** Give every path this mtime (reproducible artifacts); default: keep the host's. */
  mtime?: Timestamp;
  /** Rename files into the blob store instead of copying (the directory is given up). */
  move?: boolean;
}

/**
 * Collects a directory a build wrote (an install root) into a FileTree whose file contents are
 * blobs in `blobs`: modes (setuid bits too), symlinks, empty directories and hard links kept.
 */
export function treeFromStagedDir(dir: string, blobs: BlobStore, options: CollectOptions = {}): FileTree {
  const tree = treeFromDirectory(dir, { owners: options.owners ?? 'root' });
  tree.forEachInode((inode) => {
    if (options.mtime) {
      inode.mtime = options.mtime;
      delete inode.atime;
      delete inode.ctime;
    }
    if (inode.type === 'file' && inode.content instanceof HostFileContent) {
      inode.content = blobs.putFile(inode.content.path, { move: options.move ?? false });
    }
  });
  return tree;
}
