import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { WRITE_BYTES, type ContentCopier } from './block-target.js';
import { HostContent } from './content.js';
import { contentChunks, type FileContent } from './file-content.js';
import { showHost } from './host-path.js';
import { grown } from './typed-array.js';

/**
 * Copies of host files into an open image file (Node only), made by the writer's thread and a
 * worker thread side by side: on two cores, opening, reading and writing tens of thousands of
 * small files is most of a writer's work, and the writer has nothing else left to do by then.
 *
 * The files are cut into units: files that follow each other in the image are read into one
 * buffer of up to UNIT bytes (the gaps between them zero) and written with one `pwrite`; a
 * file larger than that is copied in UNIT pieces. Each thread claims the next unit from a
 * shared counter. All-zero 4 KiB blocks are not written (they stay holes: writers leave zero
 * runs on any target, which they zero first when it is not known to be zero).
 *
 * A file that cannot be copied as it was found (gone, shrunk, not permitted) is written again
 * afterwards by the writer's thread through its content's own reader, which fails with the
 * error that reader gives, or writes what the file holds by then.
 */

/** Bytes a unit spans: one write. */
const UNIT = WRITE_BYTES;
/**
 * Less than this is copied by the writer's thread alone: a worker costs ~10 MiB and ~30 ms to
 * start. So is anything on one core, where a worker only takes turns with the writer (measured
 * under `taskset -c 0`: no faster, 12 MiB more).
 */
const WORKER_AFTER = 8 << 20;
/** Files copied as one batch: the worker is handed their paths a batch at a time, so memory stays bounded on any tree. */
const BATCH = 4096;
/** Units the writer's thread copies between looks at progress, interrupts and the worker. */
const UNITS_BETWEEN_CHECKS = 4;
/** How long a thread waits for the other before it looks again. */
const POLL_MS = 200;

/** Control words: the next unit to claim; the worker's state; set when no more units may be claimed. */
const NEXT = 0;
const STATE = 1;
const STOP = 2;
/** Worker states: not started, copying, ended (or told not to start). */
const IDLE = 0;
const COPYING = 1;
const ENDED = 2;

/**
 * The copying itself, as source: the worker evaluates it, and so does this thread (one
 * implementation for threads that share no module). A unit is [first file, end file, piece]:
 * piece -1 for files copied whole, else the offset in the one file of a UNIT piece.
 */
const COPY_SOURCE = `
function copyUnits(fs, job, control, copied, failed, buf, most) {
  const { fd, paths, from, sizes, at, units } = job;
  const words = new Int32Array(buf.buffer, buf.byteOffset, buf.length >> 2);
  const count = units.length / 3;
  for (let k = 0; k < most; k++) {
    if (Atomics.load(control, ${STOP})) return false;
    const u = Atomics.add(control, ${NEXT}, 1);
    if (u >= count) return false;
    const first = units[3 * u], end = units[3 * u + 1], piece = units[3 * u + 2];
    let base, span, bytes = 0;
    if (piece < 0) {
      base = at[first];
      span = at[end - 1] + sizes[end - 1] - base;
      buf.fill(0, 0, span);
      for (let i = first; i < end; i++) {
        if (sizes[i] === 0) continue;
        if (!readRange(fs, paths[i], from[i], sizes[i], buf, at[i] - base)) {
          failed[i] = 1;
          buf.fill(0, at[i] - base, at[i] - base + sizes[i]);
        }
        bytes += sizes[i];
      }
    } else {
      base = at[first] + piece;
      span = Math.min(buf.length, sizes[first] - piece);
      if (!readRange(fs, paths[first], from[first] + piece, span, buf, 0)) {
        failed[first] = 1;
        buf.fill(0, 0, span);
      }
      bytes = span;
    }
    writeData(fs, fd, buf, words, span, base);
    Atomics.add(copied, 0, BigInt(bytes));
  }
  return true;
}
function readRange(fs, path, offset, size, buf, to) {
  let fd;
  try { fd = fs.openSync(path, 'r'); } catch { return false; }
  try {
    for (let done = 0; done < size; ) {
      const n = fs.readSync(fd, buf, to + done, size - done, offset + done);
      if (n === 0) return false;
      done += n;
    }
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}
function writeData(fs, fd, buf, words, len, base) {
  let run = -1;
  for (let pos = 0; pos < len; pos += 4096) {
    const end = Math.min(pos + 4096, len);
    let zero = true;
    if (end - pos === 4096) {
      for (let w = pos >> 2, last = end >> 2; w < last; w++) if (words[w] !== 0) { zero = false; break; }
    } else for (let i = pos; i < end; i++) if (buf[i] !== 0) { zero = false; break; }
    if (zero) {
      if (run >= 0) put(fs, fd, buf, run, pos, base + run);
      run = -1;
    } else if (run < 0) run = pos;
  }
  if (run >= 0) put(fs, fd, buf, run, len, base + run);
}
function put(fs, fd, buf, start, end, offset) {
  for (let done = start; done < end; ) done += fs.writeSync(fd, buf, done, end - done, offset + done - start);
}
`;

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const fs = require('node:fs');
${COPY_SOURCE}
const { postedBuffer, port } = workerData;
const posted = new Int32Array(postedBuffer);
const buf = new Uint8Array(${UNIT});
for (let seen = 0; ; ) {
  const m = receiveMessageOnPort(port);
  if (!m) {
    if (Atomics.load(posted, 0) === seen) Atomics.wait(posted, 0, seen, ${POLL_MS});
    continue;
  }
  seen++;
  const { job, controlBuffer, copiedBuffer, failedBuffer, last } = m.message;
  if (last) break;
  const control = new Int32Array(controlBuffer);
  if (Atomics.compareExchange(control, ${STATE}, ${IDLE}, ${COPYING}) !== ${IDLE}) continue;
  try {
    copyUnits(fs, job, control, new BigInt64Array(copiedBuffer), new Uint8Array(failedBuffer), buf, Infinity);
  } catch (e) {
    Atomics.store(control, ${STOP}, 1);
    port.postMessage({ code: e.code, message: e.message });
  } finally {
    Atomics.store(control, ${STATE}, ${ENDED});
    Atomics.notify(control, ${STATE});
  }
}
`;

type CopyFs = Pick<typeof import('node:fs'), 'openSync' | 'readSync' | 'writeSync' | 'closeSync'>;
interface CopyJob {
  fd: number;
  paths: (string | Uint8Array)[];
  from: Float64Array;
  sizes: Float64Array;
  at: Float64Array;
  units: Float64Array;
}
const fs: CopyFs = { openSync, readSync, writeSync, closeSync };
const copyUnits = new Function(`${COPY_SOURCE}; return copyUnits;`)() as (
  fs: CopyFs,
  job: CopyJob,
  control: Int32Array,
  copied: BigInt64Array,
  failed: Uint8Array,
  buf: Uint8Array,
  most: number,
) => boolean;

/** What a copier needs of the image file it copies into. */
export interface CopyTarget {
  /** The open image file. */
  fd: number;
  /** Notes that [offset, offset + length) gets data (before it is written). */
  noteWrite(offset: number, length: number): void;
  /** Writes through the target (a file copied again by its own reader). */
  write(offset: number, data: Uint8Array): void;
  /** The error to throw for a failed write to the image (`e` has the system's code). */
  writeError(e: unknown): Error;
  /** Throws when the run was interrupted. */
  checkInterrupted(): void;
}

/** A ContentCopier over an open image file. */
export class HostFileCopier implements ContentCopier {
  private files: HostContent[] = [];
  /** Where each file goes, by its index in `files` (a million offsets past 2 GiB as numbers[] are ~24 MB). */
  private offsets = new Float64Array(1024);
  /** Whether the files were added in image order (a writer adds them so): no sort is needed. */
  private ascending = true;
  private finished = false;
  /** Started with the copier when there is enough to copy, so that it is ready by `finish`. */
  private readonly worker: WorkerLink | undefined;

  constructor(
    bytes: number,
    private readonly target: CopyTarget,
  ) {
    this.worker = bytes >= WORKER_AFTER && availableParallelism() > 1 ? startWorker() : undefined;
  }

  add(content: FileContent, offset: number): boolean {
    if (this.finished || !(content instanceof HostContent)) return false;
    // what its reader would check first (a cached blob's size)
    content.checkBeforeRead();
    const i = this.files.length;
    if (i === this.offsets.length) this.offsets = grown(this.offsets, 2 * i);
    if (i > 0 && offset < this.offsets[i - 1]!) this.ascending = false;
    this.files.push(content);
    this.offsets[i] = offset;
    return true;
  }

  finish(progress: (bytes: number) => void): void {
    if (this.finished) return;
    this.finished = true;
    const n = this.files.length;
    if (n === 0) {
      this.end();
      return;
    }
    // in image order: units take files that follow each other
    if (!this.ascending) this.sortByOffset();
    const buf = new Uint8Array(UNIT);
    try {
      for (let first = 0; first < n; first += BATCH) this.copyBatch(first, Math.min(n, first + BATCH), this.worker, buf, progress);
    } finally {
      this.end();
    }
  }

  /** Ends the worker (when the copies are made, or the image is given up); it holds the image's descriptor while it copies. */
  end(): void {
    this.worker?.end();
  }

  /** Puts the files in image order (a writer that adds them out of order). */
  private sortByOffset(): void {
    const order = Array.from(this.files.keys()).sort((a, b) => this.offsets[a]! - this.offsets[b]!);
    this.files = order.map((k) => this.files[k]!);
    this.offsets = Float64Array.from(order, (k) => this.offsets[k]!);
  }

  /** Copies files [first, end) (in image order) with the worker's help, then again those that failed. */
  private copyBatch(first: number, end: number, worker: WorkerLink | undefined, buf: Uint8Array, progress: (bytes: number) => void): void {
    const n = end - first;
    const paths: (string | Uint8Array)[] = new Array(n);
    const from = new Float64Array(n);
    const sizes = new Float64Array(n);
    const at = this.offsets.slice(first, end);
    for (let i = 0; i < n; i++) {
      const f = this.files[first + i]!;
      paths[i] = f.path;
      from[i] = f.offset;
      sizes[i] = f.size;
    }
    const job: CopyJob = { fd: this.target.fd, paths, from, sizes, at, units: this.unitsOf(at, sizes) };
    const control = new Int32Array(new SharedArrayBuffer(3 * 4));
    const copied = new BigInt64Array(new SharedArrayBuffer(8));
    const failed = new Uint8Array(new SharedArrayBuffer(n));
    // a batch of one unit is not worth the worker's while
    if (worker && job.units.length / 3 > 1) worker.post({ job, controlBuffer: control.buffer, copiedBuffer: copied.buffer, failedBuffer: failed.buffer });
    else Atomics.store(control, STATE, ENDED);

    let reported = 0n;
    const report = (): void => {
      const now = Atomics.load(copied, 0);
      if (now > reported) progress(Number(now - reported));
      reported = now;
    };
    try {
      // a few units at a time, so that progress, interrupts and the worker's failure are seen
      do {
        this.target.checkInterrupted();
        worker?.throwIfFailed(control, this.target);
        report();
      } while (copyUnits(fs, job, control, copied, failed, buf, UNITS_BETWEEN_CHECKS));
      waitForWorker(control);
      worker?.throwIfFailed(control, this.target);
    } catch (e) {
      Atomics.store(control, STOP, 1);
      waitForWorker(control);
      throw isWriteFailure(e) ? this.target.writeError(e) : e;
    }
    report();
    // files that could not be copied as found: through their own readers, for their errors
    for (let i = 0; i < n; i++) if (failed[i]) this.copyAgain(this.files[first + i]!, at[i]!);
  }

  /** [first, end, piece] triples (see COPY_SOURCE), noting each unit's range as data. */
  private unitsOf(at: Float64Array, sizes: Float64Array): Float64Array {
    const units: number[] = [];
    let first = 0;
    const close = (end: number): void => {
      if (end > first) {
        units.push(first, end, -1);
        this.target.noteWrite(at[first]!, at[end - 1]! + sizes[end - 1]! - at[first]!);
      }
      first = end;
    };
    for (let i = 0; i < at.length; i++) {
      if (sizes[i]! > UNIT) {
        close(i);
        for (let piece = 0; piece < sizes[i]!; piece += UNIT) units.push(i, i + 1, piece);
        this.target.noteWrite(at[i]!, sizes[i]!);
        first = i + 1;
      } else if (at[i]! + sizes[i]! - at[first]! > UNIT) {
        close(i);
      }
    }
    close(at.length);
    return Float64Array.from(units);
  }

  private copyAgain(content: HostContent, offset: number): void {
    let done = 0;
    for (const chunk of contentChunks(content, `'${showHost(content.path)}'`, UNIT)) {
      this.target.write(offset + done, chunk);
      done += chunk.length;
    }
  }
}

/** The worker, between batches: it waits for the next one (or the end) on its port. */
interface WorkerLink {
  post(batch: { job: CopyJob; controlBuffer: ArrayBufferLike; copiedBuffer: ArrayBufferLike; failedBuffer: ArrayBufferLike }): void;
  /** Throws the write error the worker stopped the batch at, if it did. */
  throwIfFailed(control: Int32Array, target: CopyTarget): void;
  end(): void;
}

/** Starts the worker; undefined when it cannot be started (this thread copies alone). */
function startWorker(): WorkerLink | undefined {
  const { port1, port2 } = new MessageChannel();
  const posted = new Int32Array(new SharedArrayBuffer(4));
  try {
    new Worker(WORKER_SOURCE, { eval: true, workerData: { postedBuffer: posted.buffer, port: port2 }, transferList: [port2] }).unref();
  } catch {
    port1.close();
    return undefined;
  }
  port1.unref();
  let ended = false;
  const post = (message: object): void => {
    port1.postMessage(message);
    Atomics.add(posted, 0, 1);
    Atomics.notify(posted, 0);
  };
  return {
    post,
    throwIfFailed(control, target) {
      if (Atomics.load(control, STOP) === 0) return;
      const m = receiveMessageOnPort(port1)?.message as { code?: string; message: string } | undefined;
      if (!m) return;
      waitForWorker(control);
      throw target.writeError(Object.assign(new Error(m.message), { code: m.code }));
    },
    end: () => {
      if (ended) return;
      ended = true;
      post({ last: true });
    },
  };
}

/** Until the worker is done with a batch: one it has not begun is taken from it (it may be writing otherwise). */
function waitForWorker(control: Int32Array): void {
  if (Atomics.compareExchange(control, STATE, IDLE, ENDED) === IDLE) return;
  while (Atomics.load(control, STATE) !== ENDED) Atomics.wait(control, STATE, COPYING, POLL_MS);
}

/** An error from writing the image (reading a source file is caught where it happens). */
function isWriteFailure(e: unknown): boolean {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).syscall === 'write';
}
