import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The last `lines` lines of a (possibly large) log file; only its end is read. */
export function tailOfFile(path: string, lines: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const want = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(want);
    readSync(fd, buf, 0, want, size - want);
    const text = buf.toString('utf8').replace(/\n$/, '');
    return text === '' ? [] : text.split('\n').slice(-lines);
  } finally {
    closeSync(fd);
  }
}
