import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, readdirSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { KilnError } from '../errors.js';
import { formatSize } from '../units.js';
import { checkRange, WRITE_BYTES, type BlockSource, type BlockTarget, type ContentCopier } from './block-target.js';
import { newByteRing, RING_SOURCE, USER_WORDS, type ByteRing } from './byte-ring.js';
import './checksum/node-sha256.js';
import { HostFileCopier } from './content-copier.js';

/**
 * Image files on the host (Node only): a read-only image file, sparse image files written under
 * a temp name and renamed when complete, and the clean-up of temps and spools of killed runs.
 */

/** `length` bytes at `offset` of an open image file (after a short read, zeros: the range is checked). */
function readRange(fd: number, path: string, size: number, offset: number, length: number): Uint8Array {
  checkRange(path, size, offset, length);
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return out;
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
    return readRange(this.fd, this.path, this.size, offset, length);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** The hidden name beside `path` under which process `pid` writes it before the final rename. */
export function tempPathFor(path: string, pid: number = process.pid): string {
  return join(dirname(path), `.${basename(path)}.kiln-${pid}.tmp`);
}

/** Whether process `pid` still runs (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files that killed runs (kill -9, a crash, a power cut) left for the same
 * output: `.NAME.kiln-PID.tmp` beside it, whose PID no longer runs. Returns what it removed.
 */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.kiln-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pidText = name.slice(prefix.length, -'.tmp'.length);
    if (!/^\d+$/.test(pidText)) continue;
    const pid = Number(pidText);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    } catch {
      // another run removed it first, or it is not ours to remove
    }
  }
  return removed;
}

/* ---------------------------------------------------------------------------------------- *
 * Spool directories for compressed tar sources: `kiln-tar-PID-XXXXXX` in the temp directory.
 * ---------------------------------------------------------------------------------------- */

const SPOOL_PREFIX = 'kiln-tar-';

/** A new spool directory for this process. */
export function newSpoolDir(): string {
  return mkdtempSync(join(tmpdir(), `${SPOOL_PREFIX}${process.pid}-`));
}

/** Removes spool directories of runs that no longer run (`pid`: only that run's, alive or not). */
export function removeStaleSpools(pid?: number): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^kiln-tar-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
    if (!m) continue;
    const owner = Number(m[1]);
    if (pid !== undefined ? owner !== pid : owner === process.pid || processAlive(owner)) continue;
    try {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    } catch {
      // not ours (another user's run): leave it
    }
  }
}

/**
 * Interruption (SIGINT/SIGTERM in the CLI): another thread sets the flag, and the next write
 * through a SparseFileTarget or an output file throws, so the writer's own clean-up (abort,
 * dispose) runs and removes its temp file.
 */
let interruptFlag: Int32Array | undefined;

export function setInterruptFlag(flag: Int32Array | undefined): void {
  interruptFlag = flag;
}

/** Throws a KilnError('interrupted') once the interrupt flag is set. */
export function checkInterrupted(): void {
  if (interruptFlag !== undefined && Atomics.load(interruptFlag, 0) !== 0) {
    throw new KilnError('interrupted', 'interrupted by a signal; the partial output was removed');
  }
}

/**
 * A KilnError for an I/O failure on an output file: what failed, on which file, what to do.
 * A full disk, a quota, a file too large for the filesystem and a denied permission each get
 * their own message; anything else keeps the system's.
 */
export function outputError(e: unknown, path: string, doing: string): KilnError {
  if (e instanceof KilnError) return e;
  const err = e as NodeJS.ErrnoException;
  const dir = dirname(path);
  switch (err?.code) {
    case 'ENOSPC':
      return new KilnError(
        'disk-full',
        `the disk is full: no space left on the device holding '${dir}' while ${doing} '${path}'`,
        'free some space there, or write the output to another disk; nothing was left under the output name',
      );
    case 'EDQUOT':
      return new KilnError(
        'disk-full',
        `disk quota exceeded on '${dir}' while ${doing} '${path}'`,
        'free some space within your quota, or write the output elsewhere; nothing was left under the output name',
      );
    case 'EFBIG':
      return new KilnError(
        'file-too-large',
        `the filesystem holding '${dir}' (or the file size limit, ulimit -f) does not allow a file that large while ${doing} '${path}'`,
        'write the output to a filesystem that allows larger files (ext4 allows 16 TiB), or make it smaller',
      );
    case 'EACCES':
    case 'EPERM':
      return new KilnError('bad-output', `permission denied while ${doing} '${path}'`, `check that the directory '${dir}' exists and that you may write to it`);
    case 'EROFS':
      return new KilnError('bad-output', `'${dir}' is on a read-only filesystem (while ${doing} '${path}')`, 'write the output somewhere writable');
    case 'ENOENT':
    case 'ENOTDIR':
      return new KilnError(
        'bad-output',
        `cannot create '${path}': the directory '${dir}' does not exist`,
        'create the directory first, or name another output',
      );
    case 'ENAMETOOLONG':
      return new KilnError('bad-output', `cannot create '${path}': the name is too long`, 'use a shorter output path');
    case 'EIO':
      return new KilnError('io-error', `I/O error while ${doing} '${path}'`, 'the disk may be failing; check dmesg');
    default: {
      // the system's message names the temp file (`rename '.x.img.kiln-123.tmp' -> 'x.img'`): keep only what went wrong
      const message = err instanceof Error ? err.message.replace(/, \w+ '.*$/s, '') : String(e);
      return new KilnError('io-error', `${doing} '${path}' failed: ${message}`);
    }
  }
}

/** Temp files of this process not yet committed or aborted, removed if the process exits. */
const liveTemps = new Set<string>();
let exitHook = false;

function trackTemp(path: string): void {
  liveTemps.add(path);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const p of liveTemps) {
      try {
        unlinkSync(p);
      } catch {
        // already gone
      }
    }
  });
}

/** Registers a temp file so that process.exit() removes it unless it is committed first. */
export function registerTemp(path: string): void {
  trackTemp(path);
}

export function unregisterTemp(path: string): void {
  liveTemps.delete(path);
}

/* ---------------------------------------------------------------------------------------- *
 * Write-behind: the writes of a large image are made by a worker thread, so that the writer's
 * thread lays out and reads the next files while the kernel copies the last ones.
 * ---------------------------------------------------------------------------------------- */

/**
 * Writes go straight to the file until this many bytes are written, the rest are written
 * behind: a worker costs about 10 MiB and tens of milliseconds to start and to drain, which
 * an image of a small tree (mostly holes) does not repay (the example's disk, 8 MiB of data,
 * waited 67 ms for it at the end).
 */
const WRITE_BEHIND_AFTER = 32 << 20;
/** Runs of writes a SparseFileTarget keeps (16 bytes each) for `dataRanges`. */
const MAX_RUNS = 1 << 16;
const WRITE_RING = 4 << 20;
/** How often a waiting thread looks whether the other has failed or ended. */
const WRITE_POLL_MS = 200;
/** Control words after the ring's: the worker failed (its error is on the port), the worker ended. */
const W_FAILED = USER_WORDS;
const W_DONE = USER_WORDS + 1;
/** Record tags: bytes to write at the offset in the record's words, or the end. */
const W_DATA = 0;
const W_STOP = 1;

const WRITE_WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
${RING_SOURCE}
const { ringBuffer, controlBuffer, fd, port, words: [FAILED, DONE] } = workerData;
const ring = new ByteRing(ringBuffer, controlBuffer);
try {
  for (;;) {
    const at = ring.next(${WRITE_POLL_MS});
    if (at < 0) continue;
    if (ring.tag(at) === ${W_STOP}) { ring.release(at); break; }
    const data = ring.data(at);
    const offset = ring.word(at, 1) * 2 ** 32 + (ring.word(at, 0) >>> 0);
    try {
      for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done, offset + done);
    } catch (e) {
      port.postMessage({ code: e.code, message: e.message });
      Atomics.store(ring.control, FAILED, 1);
      break;
    }
    ring.release(at);
  }
} finally {
  Atomics.store(ring.control, DONE, 1);
  Atomics.notify(ring.control, DONE);
}
`;

/** The writes of one open file, queued for a worker thread. */
class WriteBehind {
  private readonly ring: ByteRing;
  private readonly port: MessagePort;
  private stopped = false;
  private failure: Error | undefined;
  /** Where the lent buffer's record starts in the ring; -1 when none is lent. */
  private lent = -1;
  constructor(fd: number) {
    const { ring, ringBuffer, controlBuffer } = newByteRing(WRITE_RING, 2);
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WRITE_WORKER_SOURCE, {
      eval: true,
      workerData: { ringBuffer, controlBuffer, fd, port: port2, words: [W_FAILED, W_DONE] },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    this.ring = ring;
    this.port = port1;
  }

  /** Queues a write; throws what an earlier write failed with. */
  write(offset: number, data: Uint8Array): void {
    if (this.lent >= 0) throw new Error('write-behind: a write while a buffer is lent (a bug)');
    for (let done = 0; done < data.length; ) {
      const n = Math.min(WRITE_BYTES, data.length - done);
      let at: number;
      while ((at = this.ring.reserve(n, WRITE_POLL_MS)) < 0) this.check();
      this.check();
      this.ring.bytes.set(data.subarray(done, done + n), at + 16);
      const to = offset + done;
      this.ring.publish(W_DATA, n, to % 2 ** 32, Math.floor(to / 2 ** 32));
      done += n;
    }
  }

  /** Memory at the head of the queue for `bytes` bytes: filled by the caller and queued by writeLent. */
  lend(bytes: number): Uint8Array | undefined {
    if (bytes > WRITE_RING / 2) return undefined;
    if (this.lent >= 0) throw new Error('write-behind: a buffer is already lent (a bug)');
    let at: number;
    while ((at = this.ring.reserve(bytes, WRITE_POLL_MS)) < 0) this.check();
    this.check();
    this.lent = at;
    return this.ring.bytes.subarray(at + 16, at + 16 + bytes);
  }

  /** Queues the lent buffer's first `length` bytes for `offset`. */
  writeLent(offset: number, length: number): void {
    if (this.lent < 0) throw new Error('write-behind: no buffer is lent (a bug)');
    this.lent = -1;
    this.ring.publish(W_DATA, length, offset % 2 ** 32, Math.floor(offset / 2 ** 32));
  }

  /** Waits until every queued write is made; throws what one failed with. */
  drain(): void {
    while (this.ring.used() > 0) {
      this.check();
      this.ring.sleep(1, Atomics.load(this.ring.control, 1), WRITE_POLL_MS);
    }
    this.check();
  }

  /** Ends the worker once it has made the queued writes (or failed); the descriptor is then the caller's alone. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (Atomics.load(this.ring.control, W_DONE) === 0) {
      while (this.ring.reserve(0, WRITE_POLL_MS) < 0 && Atomics.load(this.ring.control, W_DONE) === 0);
      if (Atomics.load(this.ring.control, W_DONE) === 0) this.ring.publish(W_STOP, 0, 0, 0);
      this.ring.wake();
    }
    while (Atomics.load(this.ring.control, W_DONE) === 0) Atomics.wait(this.ring.control, W_DONE, 0, WRITE_POLL_MS);
  }

  /** Throws the worker's error, as the failed write itself would have. */
  private check(): void {
    if (Atomics.load(this.ring.control, W_FAILED) === 0) return;
    if (!this.failure) {
      const m = receiveMessageOnPort(this.port)?.message as { code?: string; message: string } | undefined;
      this.failure = Object.assign(new Error(m?.message ?? 'write failed'), { code: m?.code });
    }
    throw this.failure;
  }
}

/** Writes all of `data` at `offset` of `fd`, at most WRITE_BYTES a system call (see block-target.ts). */
function writeAt(fd: number, data: Uint8Array, offset: number): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, Math.min(WRITE_BYTES, data.length - done), offset + done);
}

export interface SparseFileOptions {
  /**
   * Whether the writes may be made behind by a worker (default: yes). A writer from a source
   * directory (mkfs fat and ext4) gains nothing from a third busy thread beside its own and the
   * read-ahead on two cores, whose reading it shares when idle, and saves the worker's memory.
   */
  writeBehind?: boolean;
}

/**
 * A sparse image file. It is created under a temporary name beside the requested one and
 * sized with ftruncate (all holes); `commit()` renames it into place, `abort()` removes it, so
 * a failed write never leaves a truncated image under the requested name. Temp files of runs
 * that were killed (same output, PID no longer running) are removed first. I/O errors become
 * KilnErrors (a full disk says so), and a write after an interrupt (see setInterruptFlag) throws.
 */
export class SparseFileTarget implements BlockTarget {
  private fd: number;
  private readonly tempPath: string;
  private done = false;
  private fresh = true;
  /** Once WRITE_BEHIND_AFTER bytes are written (unless options.writeBehind is false): the writes are made by a worker thread. */
  private behind: WriteBehind | undefined;
  private written = 0;
  /** Copiers given out: their helpers end with the file. */
  private readonly copiers: HostFileCopier[] = [];
  /** Start and end of each run of writes (a write that follows the last one extends it); undefined once there are more than MAX_RUNS. */
  private runs: number[] | undefined = [];

  /** A new sparse file is all holes: true until the first write. */
  get zeroed(): boolean {
    return this.fresh;
  }

  private constructor(
    readonly path: string,
    readonly size: number,
    private readonly writeBehind: boolean,
  ) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new KilnError('bad-size', `cannot create '${path}' of ${size} bytes: sizes must be whole numbers of bytes below 2^53`, 'give a smaller size');
    }
    this.tempPath = tempPathFor(path);
    removeStaleTemps(path);
    try {
      this.fd = openSync(this.tempPath, 'w+', 0o644);
    } catch (e) {
      throw outputError(e, path, 'creating');
    }
    registerTemp(this.tempPath);
    try {
      ftruncateSync(this.fd, size);
    } catch (e) {
      this.abort();
      const err = outputError(e, path, 'sizing');
      if ((e as NodeJS.ErrnoException).code === 'EFBIG' || (e as NodeJS.ErrnoException).code === 'EINVAL') {
        throw new KilnError(
          'file-too-large',
          `cannot create '${path}' of ${formatSize(size)} (${size} bytes): the filesystem holding '${dirname(path)}' (or the file size limit, ulimit -f) does not allow a file that large`,
          'make the image smaller, or write it to a filesystem that allows larger files (ext4: 16 TiB, XFS: 8 EiB)',
        );
      }
      throw err;
    }
  }

  /**
   * The byte ranges written, sorted and merged as [start, end) pairs: the rest of the file are
   * holes. Undefined when the writes were too scattered to keep track of.
   */
  get dataRanges(): number[] | undefined {
    const runs = this.runs;
    if (!runs) return undefined;
    const pairs: [number, number][] = [];
    for (let i = 0; i < runs.length; i += 2) pairs.push([runs[i]!, runs[i + 1]!]);
    pairs.sort((a, b) => a[0] - b[0]);
    const merged: number[] = [];
    for (const [start, end] of pairs) {
      const last = merged.length - 1;
      if (last > 0 && start <= merged[last]!) merged[last] = Math.max(merged[last]!, end);
      else merged.push(start, end);
    }
    return merged;
  }

  private noteWrite(offset: number, length: number): void {
    const runs = this.runs;
    if (!runs || length === 0) return;
    if (runs.length > 0 && runs[runs.length - 1] === offset) runs[runs.length - 1] = offset + length;
    else if (runs.length < 2 * MAX_RUNS) runs.push(offset, offset + length);
    else this.runs = undefined;
  }

  static create(path: string, size: number, options: SparseFileOptions = {}): SparseFileTarget {
    return new SparseFileTarget(path, size, options.writeBehind ?? true);
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this.path, this.size, offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    try {
      this.behind?.drain();
      while (done < length) {
        const n = readSync(this.fd, out, done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      throw outputError(e, this.path, 'reading back');
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this.path, this.size, offset, data.length);
    checkInterrupted();
    this.fresh = false;
    this.noteWrite(offset, data.length);
    try {
      if (this.behind) this.behind.write(offset, data);
      else {
        writeAt(this.fd, data, offset);
        this.written += data.length;
        if (this.writeBehind && this.written >= WRITE_BEHIND_AFTER) this.behind = new WriteBehind(this.fd);
      }
    } catch (e) {
      throw outputError(e, this.path, 'writing');
    }
  }

  lend(bytes: number): Uint8Array | undefined {
    try {
      return this.behind?.lend(bytes);
    } catch (e) {
      throw outputError(e, this.path, 'writing');
    }
  }

  writeLent(offset: number, data: Uint8Array): void {
    checkRange(this.path, this.size, offset, data.length);
    checkInterrupted();
    this.fresh = false;
    this.noteWrite(offset, data.length);
    this.behind!.writeLent(offset, data.length);
  }

  copier(bytes: number): ContentCopier {
    this.fresh = false;
    // the copier writes beside the writer from now on: what was written before (zeroing) lands first
    try {
      this.behind?.drain();
    } catch (e) {
      throw outputError(e, this.path, 'writing');
    }
    this.copiers.push(
      new HostFileCopier(bytes, {
        fd: this.fd,
        noteWrite: (offset, length) => this.noteWrite(offset, length),
        write: (offset, data) => this.write(offset, data),
        writeError: (e) => outputError(e, this.path, 'writing'),
        checkInterrupted,
      }),
    );
    return this.copiers.at(-1)!;
  }

  /** Makes the image visible under its name. */
  commit(): void {
    if (this.done) return;
    try {
      checkInterrupted();
      this.behind?.drain();
    } catch (e) {
      this.abort();
      throw outputError(e, this.path, 'writing');
    }
    try {
      this.behind?.stop();
      for (const c of this.copiers) c.end();
      // fsync is not asked for; close reports delayed write errors (NFS, quotas).
      closeSync(this.fd);
    } catch (e) {
      this.done = true;
      removeQuietly(this.tempPath);
      throw outputError(e, this.path, 'writing');
    }
    this.done = true;
    try {
      renameSync(this.tempPath, this.path);
    } catch (e) {
      removeQuietly(this.tempPath);
      throw outputError(e, this.path, 'renaming the finished image to');
    } finally {
      unregisterTemp(this.tempPath);
    }
  }

  /** Drops the partial image. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    try {
      // the workers must be done with the descriptor before it is closed (and its number reused)
      this.behind?.stop();
      for (const c of this.copiers) c.end();
      closeSync(this.fd);
    } catch {
      // the file goes anyway
    }
    removeQuietly(this.tempPath);
    unregisterTemp(this.tempPath);
  }
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // nothing more can be done; stale-temp clean-up retries on the next run
  }
}

/**
 * An existing image file opened for writing in place (Node only): a whole filesystem image or a
 * disk to write a partition of (`new SubTarget(target, offset, size)`, or openImageTarget).
 * Its size is the file's; it is not zeroed, so writers zero their range before writing. Nothing
 * is renamed or removed: an aborted write leaves the file partly rewritten.
 */
export class ImageFileTarget implements BlockTarget {
  private fd: number;
  readonly size: number;
  readonly zeroed = false;
  private constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r+');
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      throw new KilnError('no-image', `cannot open image '${path}' for writing: ${(e as Error).message}`, 'name an existing image file you may write');
    }
  }
  static open(path: string): ImageFileTarget {
    return new ImageFileTarget(path);
  }
  read(offset: number, length: number): Uint8Array {
    return readRange(this.fd, this.path, this.size, offset, length);
  }
  write(offset: number, data: Uint8Array): void {
    checkRange(this.path, this.size, offset, data.length);
    checkInterrupted();
    try {
      writeAt(this.fd, data, offset);
    } catch (e) {
      throw outputError(e, this.path, 'writing');
    }
  }
  close(): void {
    try {
      closeSync(this.fd);
    } catch (e) {
      throw outputError(e, this.path, 'writing');
    }
  }
}

/** Runs `fn` on a new sparse file and commits it only if `fn` succeeds. */
export async function withSparseFile<T>(path: string, size: number, fn: (t: SparseFileTarget) => T | Promise<T>, options: SparseFileOptions = {}): Promise<T> {
  const target = SparseFileTarget.create(path, size, options);
  try {
    const result = await fn(target);
    target.commit();
    return result;
  } catch (e) {
    target.abort();
    throw e;
  }
}
