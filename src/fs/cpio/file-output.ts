import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { checkInterrupted, outputError, registerTemp, removeStaleTemps, tempPathFor, unregisterTemp } from '../file-target.js';
import type { InitramfsSink } from './initramfs-plan.js';

/**
 * A streamed output file of unknown length, written under a temporary name beside the
 * requested one and renamed into place only when `fn` succeeds (no partial file is left).
 * Temp files of killed runs for the same output are removed first; a full disk or a denied
 * permission is a KilnError that says so; a write after an interrupt throws.
 */
export async function withOutputFile<T>(path: string, fn: (sink: InitramfsSink) => Promise<T>): Promise<T> {
  const temp = tempPathFor(path);
  removeStaleTemps(path);
  let fd: number;
  try {
    fd = openSync(temp, 'w', 0o644);
  } catch (e) {
    throw outputError(e, path, 'creating');
  }
  registerTemp(temp);
  let pos = 0;
  const sink: InitramfsSink = {
    write(chunk) {
      checkInterrupted();
      let done = 0;
      try {
        while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done, pos + done);
      } catch (e) {
        throw outputError(e, path, 'writing');
      }
      pos += chunk.length;
    },
  };
  let open = true;
  try {
    const result = await fn(sink);
    checkInterrupted();
    open = false;
    try {
      closeSync(fd);
    } catch (e) {
      throw outputError(e, path, 'writing');
    }
    try {
      renameSync(temp, path);
    } catch (e) {
      throw outputError(e, path, 'renaming the finished file to');
    }
    return result;
  } catch (e) {
    if (open) {
      try {
        closeSync(fd);
      } catch {
        // the file goes anyway
      }
    }
    try {
      rmSync(temp, { force: true });
    } catch {
      // the next run removes it as a stale temp
    }
    throw e;
  } finally {
    unregisterTemp(temp);
  }
}
