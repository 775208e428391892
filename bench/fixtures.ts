/**
 * Bench inputs, built once and kept in the bench work directory between runs:
 * - `smallFiles`: the first N regular files (≤ 1 MiB) of a system directory tree (default
 *   /usr, or KILN_BENCH_USR), copied with their directories and symlinks, in sorted order;
 * - `largeFiles`: a few big files of deterministic pseudo-random bytes (no zeros to skip).
 */
import { chmodSync, closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { benchWorkDir } from './harness.js';

const MAX_SMALL = 1 << 20;

/** A copy of the first `count` small regular files under the system tree. */
export function smallFiles(count = 30_000): { dir: string; files: number; bytes: number } {
  const from = process.env.KILN_BENCH_USR ?? '/usr';
  const dir = join(benchWorkDir(), `small-${count}`);
  const stamp = join(benchWorkDir(), `small-${count}.done`);
  if (existsSync(stamp)) return JSON.parse(readFileSync(stamp, 'utf8')) as { dir: string; files: number; bytes: number };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let files = 0;
  let bytes = 0;
  const walk = (src: string, dst: string): void => {
    let names: string[];
    try {
      names = readdirSync(src).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (files >= count) return;
      const s = join(src, name);
      const d = join(dst, name);
      const st = lstatSync(s);
      try {
        if (st.isDirectory()) {
          mkdirSync(d);
          walk(s, d);
          chmodSync(d, st.mode & 0o7777);
        } else if (st.isSymbolicLink()) symlinkSync(readlinkSync(s), d);
        else if (st.isFile() && st.size <= MAX_SMALL) {
          copyFileSync(s, d);
          chmodSync(d, st.mode & 0o7777);
          files++;
          bytes += st.size;
        }
      } catch {
        // unreadable: leave it out
      }
    }
  };
  walk(from, dir);
  const info = { dir, files, bytes };
  writeFileSync(stamp, JSON.stringify(info));
  return info;
}

/** `sizes.length` files of the given sizes (bytes) of pseudo-random content. */
export function largeFiles(sizes: number[] = [1 << 30, 768 << 20, 256 << 20]): { dir: string; files: number; bytes: number } {
  const total = sizes.reduce((a, b) => a + b, 0);
  const dir = join(benchWorkDir(), `large-${total}`);
  const stamp = join(benchWorkDir(), `large-${total}.done`);
  if (existsSync(stamp)) return JSON.parse(readFileSync(stamp, 'utf8')) as { dir: string; files: number; bytes: number };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const chunk = new Uint32Array(1 << 18); // 1 MiB
  sizes.forEach((size, f) => {
    // xorshift32 fills the first MiB; each next MiB mixes in its index, so no two chunks repeat.
    let x = 0x9e3779b9 ^ (f + 1);
    for (let i = 0; i < chunk.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chunk[i] = x >>> 0 || 1;
    }
    const fd = openSync(join(dir, `big-${f}.bin`), 'w');
    const bytes = new Uint8Array(chunk.buffer);
    for (let at = 0, n = 0; at < size; at += bytes.length, n++) {
      for (let i = 0; i < chunk.length; i += 64) chunk[i] = (chunk[i]! + n * 0x01000193) >>> 0 || 1;
      writeSync(fd, bytes, 0, Math.min(bytes.length, size - at));
    }
    closeSync(fd);
  });
  const info = { dir, files: sizes.length, bytes: total };
  writeFileSync(stamp, JSON.stringify(info));
  return info;
}
