import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writing host files for the caches: every byte of a buffer, and durable, atomic files that
 * land under their name complete and on disk or not at all, so a crash or kill -9 leaves the
 * old file or the new one, never a torn one.
 */

/** Writes all of `bytes` to `fd` (at `position`, or at the file position); writeSync may write less. */
export function writeAll(fd: number, bytes: Uint8Array, position?: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position === undefined ? null : position + done);
}

export function fsyncPath(path: string, flags = 'r'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncPath without blocking the event loop (the wait happens in libuv's thread pool). */
export async function fsyncPathAsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface DurableWriteOptions {
  /** The temp file (same filesystem as `dest`); default `DEST.partial-PID-RANDOM` beside it. */
  temp?: string;
}

/**
 * Writes `dest`: `fill` writes the open temp file, which is then fsynced, renamed to `dest`,
 * and the directory fsynced. If `fill` fails (throws or rejects), the temp file is removed and
 * nothing changes under `dest`. Returns a promise exactly when `fill` does.
 */
export function writeFileDurably(dest: string, fill: (fd: number) => void, options?: DurableWriteOptions): void;
export function writeFileDurably(dest: string, fill: (fd: number) => Promise<void>, options?: DurableWriteOptions): Promise<void>;
export function writeFileDurably(dest: string, fill: (fd: number) => void | Promise<void>, options: DurableWriteOptions = {}): void | Promise<void> {
  const tmp = options.temp ?? `${dest}.partial-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const fd = openSync(tmp, 'w');
  const abandon = (e: unknown): never => {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  };
  const publish = (): void => {
    try {
      fsyncSync(fd);
    } catch (e) {
      abandon(e);
    }
    closeSync(fd);
    renameSync(tmp, dest);
    fsyncPath(dirname(dest));
  };
  let filled: void | Promise<void>;
  try {
    filled = fill(fd);
  } catch (e) {
    return abandon(e);
  }
  if (filled instanceof Promise) return filled.then(publish, abandon);
  publish();
}
