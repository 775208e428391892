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
