import { checkRange, type BlockTarget } from './block-target.js';

/** An in-memory image: tests, browsers, small filesystems. */
export class MemoryTarget implements BlockTarget {
  readonly bytes: Uint8Array;
  constructor(sizeOrBytes: number | Uint8Array) {
    this.bytes = typeof sizeOrBytes === 'number' ? new Uint8Array(sizeOrBytes) : sizeOrBytes;
  }
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    checkRange('memory target', this.size, offset, length);
    return this.bytes.slice(offset, offset + length);
  }
  write(offset: number, data: Uint8Array): void {
    checkRange('memory target', this.size, offset, data.length);
    this.bytes.set(data, offset);
  }
}
