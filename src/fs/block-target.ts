import { closeSync, fstatSync, ftruncateSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KilnError } from '../errors.js';

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

function checkRange(what: string, size: number, offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > size) {
    throw new RangeError(`${what}: access [${offset}, ${offset + length}) is outside [0, ${size})`);
  }
}

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

/** A read-only image file. */
export class FileSource implements BlockSource {
  private readonly fd: number;
  readonly size: number;
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new KilnError('no-image', `cannot open image '${path}': ${(e as Error).message}`);
    }
    this.size = fstatSync(this.fd).size;
  }
  read(offset: number, length: number): Uint8Array {
    checkRange(this.path, this.size, offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return out;
  }
  close(): void {
    closeSync(this.fd);
  }
}

/**
 * A sparse image file. It is created under a temporary name beside the requested one and
 * sized with ftruncate (all holes); `commit()` renames it into place, `abort()` removes it, so
 * a failed write never leaves a truncated image under the requested name.
 */
export class SparseFileTarget implements BlockTarget {
  private fd: number;
  private readonly tempPath: string;
  private done = false;

  private constructor(
    readonly path: string,
    readonly size: number,
  ) {
    this.tempPath = join(dirname(path), `.${basename(path)}.kiln-${process.pid}.tmp`);
    try {
      this.fd = openSync(this.tempPath, 'w+', 0o644);
    } catch (e) {
      throw new KilnError('bad-output', `cannot create '${path}': ${(e as Error).message}`, 'check that the directory exists and is writable');
    }
    ftruncateSync(this.fd, size);
  }

  static create(path: string, size: number): SparseFileTarget {
    return new SparseFileTarget(path, size);
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this.path, this.size, offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this.path, this.size, offset, data.length);
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, offset + done);
  }

  /** Makes the image visible under its name. */
  commit(): void {
    if (this.done) return;
    this.done = true;
    closeSync(this.fd);
    renameSync(this.tempPath, this.path);
  }

  /** Drops the partial image. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    closeSync(this.fd);
    rmSync(this.tempPath, { force: true });
  }
}

/** Runs `fn` on a new sparse file and commits it only if `fn` succeeds. */
export async function withSparseFile<T>(path: string, size: number, fn: (t: SparseFileTarget) => T | Promise<T>): Promise<T> {
  const target = SparseFileTarget.create(path, size);
  try {
    const result = await fn(target);
    target.commit();
    return result;
  } catch (e) {
    target.abort();
    throw e;
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
