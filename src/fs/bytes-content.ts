import type { ContentReader, FileContent } from './file-content.js';

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
