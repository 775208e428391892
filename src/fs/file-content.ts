import { KilnError } from '../errors.js';

/**
 * The bytes of a regular file, referenced rather than held: writers pull them through a
 * reader in chunks, so a tree of any size never sits in memory. Reads are synchronous so that
 * writers stay plain loops (and run unchanged in a browser over in-memory content).
 * No Node built-ins here: in-memory content is bytes-content.ts, host files content.ts.
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

/**
 * A content's bytes in order, in chunks of at most `chunkSize` bytes. The chunks share one
 * buffer: each is valid until the next is asked for (copy it to keep it). A content that ends
 * before its size is an error; `what` names it (e.g. "content for 'etc/passwd'").
 */
export function* contentChunks(content: FileContent, what: string, chunkSize = 1 << 20): Generator<Uint8Array> {
  const reader = content.open();
  try {
    const buf = new Uint8Array(Math.min(chunkSize, Math.max(content.size, 1)));
    for (let offset = 0; offset < content.size; ) {
      const n = reader.read(offset, buf.subarray(0, Math.min(buf.length, content.size - offset)));
      if (n === 0) throw new KilnError('short-content', `${what} ended after ${offset} of ${content.size} bytes`);
      yield buf.subarray(0, n);
      offset += n;
    }
  } finally {
    reader.close();
  }
}
