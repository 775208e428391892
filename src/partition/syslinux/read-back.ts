import { type BlockTarget, checkRange } from '../../fs/block-target.js';

/**
 * A zeroed target that keeps a copy of what is written through it (up to `budget` bytes), so
 * that what was just written is read back from memory: the SYSLINUX installer reads the boot
 * sector, FATs and directories the FAT writer has just written, and an image file answers a
 * read only once its queued writes are on disk (while the file data is still queued). A read
 * touching a write past the budget goes to the target.
 */
export class ReadBackTarget implements BlockTarget {
  /** Writes kept, in order (later ones win). */
  private readonly kept: { offset: number; bytes: Uint8Array }[] = [];
  /** Ranges written but not kept, [start, end), adjacent ones merged. */
  private readonly passed: { start: number; end: number }[] = [];
  private keptBytes = 0;

  /** `target` over a copy of its writes, or `target` itself when it is not zeroed (what it held is unknown). */
  static over(target: BlockTarget, budget: number): BlockTarget {
    return target.zeroed ? new ReadBackTarget(target, budget) : target;
  }

  private constructor(
    readonly target: BlockTarget,
    private readonly budget: number,
  ) {}

  get size(): number {
    return this.target.size;
  }

  get zeroed(): boolean {
    return this.target.zeroed === true;
  }

  write(offset: number, data: Uint8Array): void {
    this.target.write(offset, data);
    if (this.keptBytes + data.length <= this.budget) {
      this.kept.push({ offset, bytes: data.slice() });
      this.keptBytes += data.length;
      return;
    }
    const last = this.passed[this.passed.length - 1];
    if (last && last.end === offset) last.end += data.length;
    else this.passed.push({ start: offset, end: offset + data.length });
  }

  read(offset: number, length: number): Uint8Array {
    checkRange('read-back', this.size, offset, length);
    const end = offset + length;
    for (const p of this.passed) if (p.start < end && p.end > offset) return this.target.read(offset, length);
    const out = new Uint8Array(length);
    for (const k of this.kept) {
      const from = Math.max(offset, k.offset);
      const to = Math.min(end, k.offset + k.bytes.length);
      if (from < to) out.set(k.bytes.subarray(from - k.offset, to - k.offset), from - offset);
    }
    return out;
  }
}
