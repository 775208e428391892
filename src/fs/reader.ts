import { KilnError } from '../errors.js';
import type { BlockSource } from './block-target.js';
import type { FileContent } from './file-content.js';
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

/**
 * A source whose reads outside the image are a KilnError naming the filesystem, not the
 * RangeError of the underlying source: a truncated or damaged image is the user's problem to
 * fix, and every reader reads through one of these.
 */
export class CheckedSource implements BlockSource {
  constructor(
    private readonly inner: BlockSource,
    private readonly code: string,
    private readonly what: string,
  ) {}

  get size(): number {
    return this.inner.size;
  }

  read(offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.inner.size) {
      throw new KilnError(
        this.code,
        `${this.what}: bytes ${offset}–${offset + length} lie outside the ${this.inner.size}-byte image`,
        'the image is truncated or its metadata is damaged; check it with e2fsck -fn or fsck.fat -n',
      );
    }
    return this.inner.read(offset, length);
  }
}

/** Wraps a source once (a CheckedSource stays as it is). */
export function checkedSource(source: BlockSource, code: string, what: string): BlockSource {
  return source instanceof CheckedSource ? source : new CheckedSource(source, code, what);
}
