import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { KilnError } from '../errors.js';
import type { ContentReader, FileContent } from './file-content.js';
import { showHost as showHostPath, type HostPath } from './host-path.js';

/**
 * Content from a range of a host file: a whole file, a member of an uncompressed tar, or a
 * blob in a cache. The size is fixed when the tree is built; a file that shrinks since is an
 * error at write time, not silent zeros. Abstract so that a tree of a million files can keep
 * its host paths however is cheapest (tree-from-dir.ts derives them from the tree path);
 * pipeline code that hard-links or moves host files asks for this class.
 */
export abstract class HostContent implements FileContent {
  /** A Buffer where the host path is not UTF-8 (names are bytes). */
  abstract readonly path: HostPath;
  abstract readonly size: number;
  /** Where the content starts in the host file. */
  abstract readonly offset: number;
  /** What must hold before the file is read (nothing here; a cached blob checks its size). */
  checkBeforeRead(): void {}
  open(): ContentReader {
    this.checkBeforeRead();
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (e) {
      throw sourceError(e, this.path);
    }
    const base = this.offset;
    const size = this.size;
    // the host path as messages show it, made only for a message (this is every file's open)
    const host = this.path;
    return {
      read(offset, into) {
        const want = Math.max(0, Math.min(into.length, size - offset));
        let done = 0;
        while (done < want) {
          let n: number;
          try {
            n = readSync(fd, into, done, want - done, base + offset + done);
          } catch (e) {
            throw sourceError(e, host);
          }
          if (n === 0) {
            const at = base + offset + done;
            const path = showHostPath(host);
            throw new KilnError(
              'source-changed',
              `'${path}' shrank while it was being read: it ended after ${at} bytes${base ? ` (content from byte ${base}, ${size} bytes)` : `, but it had ${size} bytes when the tree was read`}`,
              'make sure nothing changes the source files while kiln reads them, then run again',
            );
          }
          done += n;
        }
        return done;
      },
      close() {
        closeSync(fd);
      },
    };
  }
}

/** Content at a host path and offset given when it is made. */
export class HostFileContent extends HostContent {
  constructor(
    readonly path: HostPath,
    readonly size: number,
    readonly offset = 0,
  ) {
    super();
  }
  static of(path: HostPath): HostFileContent {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw sourceError(e, path);
    }
    try {
      return new HostFileContent(path, fstatSync(fd).size);
    } finally {
      closeSync(fd);
    }
  }
}

/** A KilnError for a source file that cannot be opened or read. */
function sourceError(e: unknown, hostPath: HostPath): KilnError {
  if (e instanceof KilnError) return e;
  const path = showHostPath(hostPath);
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return new KilnError(
        'source-changed',
        `source file '${path}' is gone: it was removed after the tree was read`,
        'make sure nothing changes the source files while kiln reads them, then run again',
      );
    case 'EACCES':
    case 'EPERM':
      return new KilnError(
        'no-source',
        `cannot read source file '${path}': permission denied`,
        'make it readable for the user running kiln (or run as its owner)',
      );
    case 'EIO':
      return new KilnError('io-error', `I/O error while reading source file '${path}'`, 'the disk holding it may be failing; check dmesg');
    default:
      return new KilnError('no-source', `cannot read source file '${path}': ${err instanceof Error ? err.message : String(e)}`);
  }
}
