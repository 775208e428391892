import { checkRange, type BlockTarget } from './block-target.js';

/**
 * An in-memory image: tests, browsers, small filesystems. Made of a size, it is zeroed (writers
 * skip zeroing) until the first write or zero(); made of existing bytes, it is not, and writers
 * zero their range first. Changes made through `bytes` directly are not seen: write those
 * through `write`, or make the target of the bytes.
 */
export class MemoryTarget implements BlockTarget {
  readonly bytes: Uint8Array;
  private fresh: boolean;
  constructor(sizeOrBytes: number | Uint8Array) {
    this.fresh = typeof sizeOrBytes === 'number';
    this.bytes = typeof sizeOrBytes === 'number' ? new Uint8Array(sizeOrBytes) : sizeOrBytes;
  }
  get zeroed(): boolean {
    return this.fresh;
  }
  zero(offset: number, length: number): void {
    checkRange('memory target', this.size, offset, length);
    this.fresh = false;
    this.bytes.fill(0, offset, offset + length);
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
    this.fresh = false;
    this.bytes.set(data, offset);
  }
}
