import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KilnError } from '../../errors.js';
import type { InitramfsSink } from './initramfs.js';

/**
 * A streamed output file of unknown length, written under a temporary name beside the
 * requested one and renamed into place only when `fn` succeeds (no partial file is left).
 */
export async function withOutputFile<T>(path: string, fn: (sink: InitramfsSink) => Promise<T>): Promise<T> {
  const temp = join(dirname(path), `.${basename(path)}.kiln-${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'w', 0o644);
  } catch (e) {
    throw new KilnError('bad-output', `cannot create '${path}': ${(e as Error).message}`, 'check that the directory exists and is writable');
  }
  let pos = 0;
  const sink: InitramfsSink = {
    write(chunk) {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done, pos + done);
      pos += chunk.length;
    },
  };
  try {
    const result = await fn(sink);
    closeSync(fd);
    renameSync(temp, path);
    return result;
  } catch (e) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw e;
  }
}
