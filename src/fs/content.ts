import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * The bytes of a regular file, referenced rather than held: writers pull them through a
 * reader in chunks, so a tree of any size never sits in memory. Reads are synchronous so that
 * writers stay plain loops (and run unchanged in a browser over in-memory content).
 */
export interface FileContent {
  readonly size: number;
  open(): ContentReader;
}

export interface ContentReader {
  /** Fills `into` from `offset` (within the file); returns the bytes read (short only at end). */
  read(offset: number, into: Uint8Array): number;
  close(): void;
}

/** Content held in memory. */
export class BytesContent implements FileContent {
  constructor(readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  open(): ContentReader {
    const bytes = this.bytes;
    return {
      read(offset, into) {
        const n = Math.max(0, Math.min(into.length, bytes.length - offset));
        into.set(bytes.subarray(offset, offset + n));
        return n;
      },
      close() {},
    };
  }
}

/**
 * Content from a range of a host file: a whole file, a member of an uncompressed tar, or a
 * blob in a cache. The size is fixed when the tree is built; a file that shrinks since is an
 * error at write time, not silent zeros.
 */
export class HostFileContent implements FileContent {
  constructor(
    readonly path: string,
    readonly size: number,
    readonly offset = 0,
  ) {}
  static of(path: string): HostFileContent {
    const fd = openSync(path, 'r');
    try {
      return new HostFileContent(path, fstatSync(fd).size);
    } finally {
      closeSync(fd);
    }
  }
  open(): ContentReader {
    const fd = openSync(this.path, 'r');
    const base = this.offset;
    const size = this.size;
    const path = this.path;
    return {
      read(offset, into) {
        const want = Math.max(0, Math.min(into.length, size - offset));
        let done = 0;
        while (done < want) {
          const n = readSync(fd, into, done, want - done, base + offset + done);
          if (n === 0) throw new Error(`${path}: file shrank while being read (expected ${size} bytes)`);
          done += n;
        }
        return done;
      },
      close() {
        closeSync(fd);
      },
    };
  }
}

/** Reads a whole content into memory (for small files: symlink targets, configs, tests). */
export function readContent(content: FileContent): Uint8Array {
  const out = new Uint8Array(content.size);
  const reader = content.open();
  try {
    reader.read(0, out);
  } finally {
    reader.close();
  }
  return out;
}
