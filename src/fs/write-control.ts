import { KilnError } from '../errors.js';
import { writeZeros, type BlockTarget } from './block-target.js';
import type { FileTree } from './tree.js';

/**
 * Progress and cancellation for the writers, and the zeroing of targets that are not known to
 * be zero. Pure (no Node built-ins): the browser entries use it.
 */

/** How far a write has come. `bytesDone === bytesTotal && filesDone === filesTotal` on the last call. */
export interface WriteProgress {
  /** Bytes of file content written so far (for a disk: of all its partitions). */
  bytesDone: number;
  bytesTotal: number;
  /** Regular files (or raw partition contents) written so far. */
  filesDone: number;
  filesTotal: number;
}

/**
 * What `AbortSignal` offers that the writers use (`aborted`, `reason`): a DOM or Node
 * `AbortSignal` fits, and so does any object with those fields.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

/** The options every writer takes besides its own. */
export interface WriteControl {
  /**
   * Called as the write goes: at file boundaries and while large files are copied, at most
   * about 500 times per write, and once more at the end with done equal to total.
   */
  onProgress?: (progress: WriteProgress) => void;
  /**
   * Checked before the first write, at every file and every few MiB: once aborted, the writer
   * throws a KilnError with code 'aborted' (its `cause` is the signal's reason). The writers
   * are synchronous, so the signal must be aborted from another task that runs between calls
   * (a worker writing, or an `onProgress` callback) or before the call.
   */
  signal?: AbortSignalLike;
}

/** Throws KilnError('aborted') when the signal is aborted. */
export function checkAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) {
    const err = new KilnError(
      'aborted',
      'the write was aborted',
      'the target holds a partial image; a file target created by kiln leaves nothing under its name',
    );
    (err as Error & { cause?: unknown }).cause = signal.reason;
    throw err;
  }
}

/** Throttled progress: reports when about 1/500 of the bytes or of the files has passed since the last report. */
export class ProgressMeter {
  private bytesDone = 0;
  private filesDone = 0;
  private lastBytes = -1;
  private lastFiles = -1;
  private readonly byteStep: number;
  private readonly fileStep: number;
  constructor(
    private readonly control: WriteControl,
    readonly bytesTotal: number,
    readonly filesTotal: number,
  ) {
    this.byteStep = Math.max(1, Math.floor(bytesTotal / 500));
    this.fileStep = Math.max(1, Math.floor(filesTotal / 500));
  }
  /** `n` more bytes written; checks the signal. */
  bytes(n: number): void {
    this.bytesDone += n;
    checkAborted(this.control.signal);
    this.maybeReport();
  }
  /** One more file done; checks the signal. */
  file(): void {
    this.filesDone++;
    checkAborted(this.control.signal);
    this.maybeReport();
  }
  /** Sets the counts (an aggregate of other meters, as a disk of partitions); checks the signal. */
  set(bytesDone: number, filesDone: number): void {
    this.bytesDone = bytesDone;
    this.filesDone = filesDone;
    checkAborted(this.control.signal);
    this.maybeReport();
  }
  /** The last report: done equals total. */
  finish(): void {
    checkAborted(this.control.signal);
    this.bytesDone = this.bytesTotal;
    this.filesDone = this.filesTotal;
    this.report();
  }
  private maybeReport(): void {
    if (!this.control.onProgress) return;
    if (this.bytesDone - this.lastBytes >= this.byteStep || this.filesDone - this.lastFiles >= this.fileStep) this.report();
  }
  private report(): void {
    this.lastBytes = this.bytesDone;
    this.lastFiles = this.filesDone;
    this.control.onProgress?.({ bytesDone: this.bytesDone, bytesTotal: this.bytesTotal, filesDone: this.filesDone, filesTotal: this.filesTotal });
  }
}

/**
 * Content bytes and regular files of a tree as the writers count them: each inode once (ext4,
 * hard links counted once), or with `perPath` each path (FAT, where a hard link is a copy).
 */
export function treeTotals(tree: FileTree, perPath = false): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const add = (i: { type: string; content?: { size: number } }): void => {
    if (i.type !== 'file') return;
    files++;
    bytes += i.content?.size ?? 0;
  };
  if (perPath) for (const [, inode] of tree.walk()) add(inode);
  else tree.forEachInode(add);
  return { bytes, files };
}

/**
 * Makes [0, length) of `target` read as zeros unless the target says it already does
 * (`zeroed`): what a writer calls after its checks and before its first write, so that the
 * image is the same whatever the target held before. Uses the target's `zero` when it has one.
 */
export function zeroTarget(target: BlockTarget, length: number, signal?: AbortSignalLike): void {
  checkAborted(signal);
  if (target.zeroed === true) return;
  if (target.zero) {
    target.zero(0, length);
    return;
  }
  writeZeros(target, 0, length, () => checkAborted(signal));
}
