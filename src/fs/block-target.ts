/**
 * Block targets and sources: where writers put bytes and where readers read them. Pure
 * (no Node built-ins): memory targets live in memory-target.ts, files in file-target.ts.
 */

/** Something to read a byte range from: an image file, a partition of one, or memory. */
export interface BlockSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/**
 * Where writers put bytes. A writer writes only inside [0, size) and never writes runs of
 * zeros where the target is still a hole: what it does not write reads back as zeros.
 */
export interface BlockTarget extends BlockSource {
  write(offset: number, data: Uint8Array): void;
}

export function checkRange(what: string, size: number, offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > size) {
    throw new RangeError(`${what}: access [${offset}, ${offset + length}) is outside [0, ${size})`);
  }
}
/** A window onto a larger target: a partition inside a disk image. */
export class SubTarget implements BlockTarget {
  constructor(
    readonly parent: BlockTarget,
    readonly offset: number,
    readonly size: number,
  ) {
    checkRange('partition', parent.size, offset, size);
  }
  read(offset: number, length: number): Uint8Array {
    checkRange('partition', this.size, offset, length);
    return this.parent.read(this.offset + offset, length);
  }
  write(offset: number, data: Uint8Array): void {
    checkRange('partition', this.size, offset, data.length);
    this.parent.write(this.offset + offset, data);
  }
}

/** A read-only window onto a source (reading one partition of a disk image). */
export class SubSource implements BlockSource {
  constructor(
    readonly parent: BlockSource,
    readonly offset: number,
    readonly size: number,
  ) {
    checkRange('partition', parent.size, offset, size);
  }
  read(offset: number, length: number): Uint8Array {
    checkRange('partition', this.size, offset, length);
    return this.parent.read(this.offset + offset, length);
  }
}
const ZERO_CHECK = 4096;

/**
 * Writes `data` into a region that is still a hole, skipping 4 KiB-aligned runs that are all
 * zeros so that they stay holes.
 */
export function writeSkippingZeros(target: BlockTarget, offset: number, data: Uint8Array): void {
  let start = -1;
  for (let pos = 0; pos < data.length; pos += ZERO_CHECK) {
    const end = Math.min(pos + ZERO_CHECK, data.length);
    if (isZero(data, pos, end)) {
      if (start >= 0) {
        target.write(offset + start, data.subarray(start, pos));
        start = -1;
      }
    } else if (start < 0) start = pos;
  }
  if (start >= 0) target.write(offset + start, data.subarray(start));
}

export function isZero(data: Uint8Array, start = 0, end = data.length): boolean {
  // Compare 4 bytes at a time where aligned; this is on the hot path of every writer.
  let i = start;
  if ((data.byteOffset + i) % 4 === 0) {
    const words = new Uint32Array(data.buffer, data.byteOffset + i, Math.floor((end - i) / 4));
    for (let w = 0; w < words.length; w++) if (words[w] !== 0) return false;
    i += words.length * 4;
  }
  for (; i < end; i++) if (data[i] !== 0) return false;
  return true;
}
