import type { FileContent } from './content.js';
import type { NodeType, Timestamp } from './tree.js';

/**
 * What every filesystem reader (ext4, FAT) offers: enough to list, stat and read an image,
 * for `kiln image ls/cat` and as a test oracle beside the real tools.
 */
export interface FsStat {
  type: NodeType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Timestamp;
  atime?: Timestamp;
  ctime?: Timestamp;
  crtime?: Timestamp;
  /** Inode number (or a stable identity where the format has none): equal for hard links. */
  ino: number;
  nlink: number;
  target?: string;
  rdev?: { major: number; minor: number };
  xattrs?: Map<string, Uint8Array>;
  /** FAT attribute byte, where the format has one. */
  attributes?: number;
}

export interface FsDirEntry {
  name: string;
  stat: FsStat;
}

export interface FsReader {
  readonly kind: 'ext4' | 'fat';
  /** Paths are '/'-separated, relative to the root ('' or '/' is the root). */
  stat(path: string): FsStat;
  list(path: string): FsDirEntry[];
  readFile(path: string): Uint8Array;
  /** The content as a FileContent, for streaming large files out. */
  content(path: string): FileContent;
}
