import type { FileContent } from './file-content.js';

/**
 * Block targets and sources: where writers put bytes and where readers read them. Pure
 * (no Node built-ins): memory targets live in memory-target.ts, files in file-target.ts.
 */

/**
 * The most bytes one system call writes into an image file: file-target.ts splits larger
 * writes, and writers size their buffers to it (staged data, copied file contents, zero fill).
 * On a 2-core VM (Linux 6.18), 1 MiB writes were bimodal: some runs took 2-4 times as long,
 * nearly all of it system time (mkfs fat of 2 GiB of large files: 0.68 s or 1.5-4 s; ext4
 * (a)'s writer thread: pwrite 257 or 914 ms). perf of the slow runs: the copy into the page
 * cache (copy_folio_from_iter_atomic) and, with two threads writing, spinning on the file's
 * lock while the other copies (rwsem_spin_on_owner); no compaction or reclaim in /proc/vmstat.
 * 256 KiB writes took 0.75-1.0 s in most runs there (512 KiB about the same, 128 KiB slower).
 * The page cache sizes its folios to the write, so large ones likely land on memory the VM's
 * host has yet to back. `tar` writes 10 KiB at a time.
 */
export const WRITE_BYTES = 256 << 10;

/** WRITE_BYTES of zeros, shared: only ever read. */
let zeros: Uint8Array | undefined;

/**
 * Writes zeros over [offset, offset + length) of `target`, WRITE_BYTES at a time, calling
 * `each` before each write (an interrupt check, for a whole image).
 */
export function writeZeros(target: BlockTarget, offset: number, length: number, each?: () => void): void {
  zeros ??= new Uint8Array(WRITE_BYTES);
  for (let at = 0; at < length; at += WRITE_BYTES) {
    each?.();
    target.write(offset + at, zeros.subarray(0, Math.min(WRITE_BYTES, length - at)));
  }
}

/** Something to read a byte range from: an image file, a partition of one, or memory. */
export interface BlockSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/**
 * Where writers put bytes. A writer writes only inside [0, size). On a target that declares
 * `zeroed`, it never writes runs of zeros (they stay holes) and relies on what it does not
 * write reading back as zeros; on any other target it first makes its range zero, so the image
 * is the same bytes whatever the target held before.
 */
export interface BlockTarget extends BlockSource {
  write(offset: number, data: Uint8Array): void;
  /**
   * True when every byte not yet written reads as zero: a new MemoryTarget of a size, a new
   * SparseFileTarget, a partition of a disk that was just created. Such targets report true
   * until their first write. Absent or false: writers zero their range before writing.
   */
  readonly zeroed?: boolean;
  /** Makes [offset, offset + length) read as zeros, faster than writing zeros (optional). */
  zero?(offset: number, length: number): void;
  /**
   * Optional, where writes are queued (a large image file is written by a worker thread): up to
   * `bytes` bytes of the queue's own memory, for a writer to fill and give back with `writeLent`
   * (the bytes are then copied once fewer than through `write`); undefined when there is none.
   * It starts at a multiple of 8 bytes into its ArrayBuffer or SharedArrayBuffer.
   * Nothing else may be written between the two.
   */
  lend?(bytes: number): Uint8Array | undefined;
  /** Writes the lent buffer's first `data.length` bytes (`data` is that prefix of it) at `offset`; the buffer goes back. */
  writeLent?(offset: number, data: Uint8Array): void;
  /**
   * Optional, where files can be copied in by more threads than the writer's (an image file on
   * the host): a copier for the writer's file contents, asked for once the writer writes, before
   * it writes anything else (`bytes`: about how much it will copy, so that helpers can get ready).
   */
  copier?(bytes: number): ContentCopier | undefined;
}

/**
 * Copies whole file contents into a target (BlockTarget.copier). All-zero 4 KiB blocks may be
 * left unwritten, as writers leave zero runs (they zero a target not known to be zero first),
 * and the bytes between two contents less than WRITE_BYTES apart may be written as zeros: a writer
 * adds the contents of a region it writes nothing else into.
 */
export interface ContentCopier {
  /** Takes `content` to be written whole at `offset`; false when this copier cannot read it (the writer writes it itself). */
  add(content: FileContent, offset: number): boolean;
  /** Makes the copies taken, telling `progress` about bytes copied; throws the error reading a file gives. */
  finish(progress: (bytes: number) => void): void;
}

/** Options of a SubTarget. */
export interface SubTargetOptions {
  /**
   * Whether the window reads as zeros until written (default: whether the parent said so when
   * the window was made). The disk assembler sets it for partitions of a disk it has zeroed.
   */
  zeroed?: boolean;
}

export function checkRange(what: string, size: number, offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > size) {
    throw new RangeError(`${what}: access [${offset}, ${offset + length}) is outside [0, ${size})`);
  }
}
/** A window onto a larger target: a partition inside a disk image. */
export class SubTarget implements BlockTarget {
  private fresh: boolean;
  constructor(
    readonly parent: BlockTarget,
    readonly offset: number,
    readonly size: number,
    options: SubTargetOptions = {},
  ) {
    checkRange('partition', parent.size, offset, size);
    this.fresh = options.zeroed ?? parent.zeroed === true;
  }
  /** True until the first write when the window was made zeroed (see SubTargetOptions). */
  get zeroed(): boolean {
    return this.fresh;
  }
  read(offset: number, length: number): Uint8Array {
    checkRange('partition', this.size, offset, length);
    return this.parent.read(this.offset + offset, length);
  }
  write(offset: number, data: Uint8Array): void {
    checkRange('partition', this.size, offset, data.length);
    this.fresh = false;
    this.parent.write(this.offset + offset, data);
  }
  copier(bytes: number): ContentCopier | undefined {
    const parent = this.parent.copier?.(bytes);
    if (!parent) return undefined;
    this.fresh = false;
    return {
      add: (content, offset) => {
        checkRange('partition', this.size, offset, content.size);
        return parent.add(content, this.offset + offset);
      },
      finish: (progress) => parent.finish(progress),
    };
  }
  zero(offset: number, length: number): void {
    checkRange('partition', this.size, offset, length);
    this.fresh = false;
    if (this.parent.zero) this.parent.zero(this.offset + offset, length);
    else writeZeros(this.parent, this.offset + offset, length);
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
